// The home page's task menus: one component named on each row instead of the same Alpine
// attributes written out 25 times (a third of the page's weight).
(function () {
  "use strict";

  document.addEventListener("alpine:init", function () {
    window.Alpine.data("waslTaskMenu", function () {
      return {
        more: false,
        close() {
          this.more = false;
        },
        toggle: {
          "@keydown.escape"() {
            this.close();
          },
          "@click"() {
            this.more = !this.more;
          },
          ":aria-expanded"() {
            return this.more.toString();
          },
        },
        panel: {
          "@keydown.escape"() {
            this.close();
          },
          "x-show"() {
            return this.more;
          },
          "@click.outside"() {
            this.more = false;
          },
        },
      };
    });
  });
})();
