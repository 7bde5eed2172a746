/* A calendar picker for Jalali, Hijri (Umm al-Qura) and Gregorian dates.
 * Month grids come from the browser's own calendar tables (Intl: "persian",
 * "islamic-umalqura", "gregory"), so nothing is downloaded. The input keeps the text
 * the server reads back: year/month/day (Jalali, Hijri) or year-month-day (Gregorian).
 * Keyboard: arrows move by a day or a week (mirrored right-to-left), PageUp/PageDown by a
 * month, Home/End to the week's ends, Enter picks, Escape closes.
 */
(function () {
  "use strict";
  var DAY = 86400000;
  var INTL_CAL = { jalali: "persian", hijri: "islamic-umalqura", gregorian: "gregory" };
  var NUMBERING = { fa: "arabext", ar: "arab" };

  function partsOf(fmt, time) {
    var out = {};
    fmt.formatToParts(new Date(time)).forEach(function (p) {
      if (p.type === "year" || p.type === "month" || p.type === "day") out[p.type] = parseInt(p.value, 10);
    });
    return out;
  }
  function toLatin(text) {
    return String(text || "")
      .replace(/[\u06F0-\u06F9]/g, function (c) { return String(c.charCodeAt(0) - 0x06f0); })
      .replace(/[\u0660-\u0669]/g, function (c) { return String(c.charCodeAt(0) - 0x0660); });
  }
  function pad(n, size) { n = String(n); while (n.length < size) n = "0" + n; return n; }

  function datepicker(options) {
    var calendar = options.calendar in INTL_CAL ? options.calendar : "gregorian";
    var lang = options.lang || "en";
    var native = options.digits === "native" && NUMBERING[lang];
    var numeric = new Intl.DateTimeFormat("en-u-ca-" + INTL_CAL[calendar] + "-nu-latn", {
      timeZone: "UTC", year: "numeric", month: "numeric", day: "numeric",
    });
    var locale = lang + "-u-ca-" + INTL_CAL[calendar] + "-nu-" + (native ? NUMBERING[lang] : "latn");
    var title = new Intl.DateTimeFormat(locale, { timeZone: "UTC", year: "numeric", month: "long" });
    var weekday = new Intl.DateTimeFormat(lang, { timeZone: "UTC", weekday: "short" });
    var longDate = new Intl.DateTimeFormat(locale, { timeZone: "UTC", dateStyle: "long" });
    var num = new Intl.NumberFormat(native ? lang + "-u-nu-" + NUMBERING[lang] : "en", { useGrouping: false });
    var weekStart = typeof options.weekStart === "number" ? options.weekStart : 0; // 0 = Monday

    function today() { var n = new Date(); return Date.UTC(n.getFullYear(), n.getMonth(), n.getDate()); }
    function firstOfMonth(time) { return time - (partsOf(numeric, time).day - 1) * DAY; }
    function findMonth(year, month) {
      // Jump by average month lengths from today, then step to the exact month.
      var t = firstOfMonth(today()), p = partsOf(numeric, t);
      var diff = (year - p.year) * 12 + (month - p.month);
      t = firstOfMonth(t + diff * (calendar === "hijri" ? 29.53 : 30.44) * DAY + 15 * DAY);
      for (var i = 0; i < 4; i++) {
        p = partsOf(numeric, t);
        var off = (year - p.year) * 12 + (month - p.month);
        if (off === 0) return t;
        t = firstOfMonth(off > 0 ? t + 32 * DAY : t - DAY);
      }
      return t;
    }
    function parse(text) {
      var m = /^\s*(\d{1,4})\s*[\/\-.]\s*(\d{1,2})\s*[\/\-.]\s*(\d{1,4})\s*$/.exec(toLatin(text));
      if (!m) return null;
      var y = +m[1], mo = +m[2], d = +m[3];
      if (m[3].length === 4 && m[1].length <= 2) { y = +m[3]; d = +m[1]; }
      if (calendar !== "gregorian" && y >= 1800) return Date.UTC(y, mo - 1, d);
      var first = findMonth(y, mo), t = first + (d - 1) * DAY;
      var p = partsOf(numeric, t);
      return p.year === y && p.month === mo && p.day === d ? t : null;
    }
    function write(time) {
      var p = partsOf(numeric, time);
      var text = calendar === "gregorian"
        ? pad(p.year, 4) + "-" + pad(p.month, 2) + "-" + pad(p.day, 2)
        : pad(p.year, 4) + "/" + pad(p.month, 2) + "/" + pad(p.day, 2);
      return native ? text.replace(/\d/g, function (c) { return num.format(+c); }) : text;
    }

    return {
      open: false,
      month: 0,       // UTC time of the first day of the shown month
      focused: 0,     // UTC time of the day that has the keyboard
      selected: null,
      weekdays: [],
      weeks: [],
      title: "",
      init: function () {
        // 2024-01-01 was a Monday.
        for (var i = 0; i < 7; i++) this.weekdays.push(weekday.format(new Date(Date.UTC(2024, 0, 1 + ((weekStart + i) % 7)))));
      },
      toggle: function () { this.open ? this.close() : this.show(); },
      show: function () {
        this.selected = parse(this.$refs.input.value);
        this.focused = this.selected || today();
        this.render(firstOfMonth(this.focused));
        this.open = true;
        var self = this;
        this.$nextTick(function () { self.focusDay(); });
      },
      close: function (refocus) {
        if (!this.open) return;
        this.open = false;
        if (refocus) this.$refs.toggle.focus();
      },
      render: function (first) {
        this.month = first;
        this.title = title.format(new Date(first + 14 * DAY));
        var length = 0, p = partsOf(numeric, first);
        while (partsOf(numeric, first + length * DAY).month === p.month) length++;
        var lead = (new Date(first).getUTCDay() + 6 - weekStart) % 7; // Monday-based
        var cells = [];
        for (var i = 0; i < lead; i++) cells.push(null);
        for (var d = 0; d < length; d++) {
          var t = first + d * DAY;
          cells.push({ time: t, label: num.format(d + 1), name: longDate.format(new Date(t)), today: t === today() });
        }
        while (cells.length % 7) cells.push(null);
        this.weeks = [];
        for (var w = 0; w < cells.length; w += 7) this.weeks.push(cells.slice(w, w + 7));
      },
      shift: function (months) {
        var t = months > 0 ? firstOfMonth(this.month + 32 * DAY) : firstOfMonth(this.month - DAY);
        var day = partsOf(numeric, this.focused).day;
        this.render(t);
        var len = 0; while (partsOf(numeric, t + len * DAY).month === partsOf(numeric, t).month) len++;
        this.focused = t + (Math.min(day, len) - 1) * DAY;
        var self = this;
        this.$nextTick(function () { self.focusDay(); });
      },
      move: function (days) {
        var t = this.focused + days * DAY;
        if (partsOf(numeric, t).month !== partsOf(numeric, this.month).month || t < this.month) this.render(firstOfMonth(t));
        this.focused = t;
        var self = this;
        this.$nextTick(function () { self.focusDay(); });
      },
      focusDay: function () {
        var el = this.$root.querySelector('[data-time="' + this.focused + '"]');
        if (el) el.focus();
      },
      onKey: function (event) {
        var rtl = document.documentElement.dir === "rtl";
        var keys = {
          ArrowLeft: rtl ? 1 : -1, ArrowRight: rtl ? -1 : 1, ArrowUp: -7, ArrowDown: 7,
        };
        if (event.key in keys) { event.preventDefault(); this.move(keys[event.key]); }
        else if (event.key === "PageUp") { event.preventDefault(); this.shift(-1); }
        else if (event.key === "PageDown") { event.preventDefault(); this.shift(1); }
        else if (event.key === "Home") { event.preventDefault(); this.move(-((new Date(this.focused).getUTCDay() + 6 - weekStart) % 7)); }
        else if (event.key === "End") { event.preventDefault(); this.move(6 - ((new Date(this.focused).getUTCDay() + 6 - weekStart) % 7)); }
      },
      pick: function (time) {
        this.$refs.input.value = write(time);
        this.$refs.input.dispatchEvent(new Event("input", { bubbles: true }));
        this.$refs.input.dispatchEvent(new Event("change", { bubbles: true }));
        this.selected = time;
        this.close(true);
      },
    };
  }

  document.addEventListener("alpine:init", function () {
    window.Alpine.data("waslDatepicker", datepicker);
  });
})();
