/* The pipeline board: drag a card (SortableJS) or use its "Move to…" menu; moves are saved
   by POSTing to the deal's move URL. A won or lost stage first asks for the final amount or
   the lost reason in a dialog the server renders; cancelling puts the card back. The same
   dialog serves the won/lost buttons of a deal's page ([data-move-open]). */
(function () {
  "use strict";

  var board = document.getElementById("board");
  var dialogEl = document.getElementById("move-dialog");
  var menuEl = document.getElementById("move-menu");
  var pending = null; // {card, from, next, stage, done}

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      var input = document.querySelector("input[name=csrfmiddlewaretoken]");
      return input ? input.value : "";
    }
  }

  function notice(message, level) {
    if (!message) return;
    document.body.dispatchEvent(new CustomEvent("wasl:notice", {
      detail: {message: message, level: level || "success"}
    }));
  }

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  function errorText(html, fallback) {
    var found = parse(html).querySelector("[data-error]");
    return found ? found.textContent.trim() : fallback;
  }

  function moveUrl(card) {
    var link = card.querySelector("a[href]");
    return link.getAttribute("href") + "move/";
  }

  function listOf(stageId) {
    return document.querySelector('.wasl-cards[data-stage="' + stageId + '"]');
  }

  function boardFields(form) {
    form.append("board", "1");
    new URLSearchParams(board.dataset.query || "").forEach(function (value, key) {
      form.append(key, value);
    });
    return form;
  }

  // Put a card back where it was before a move that did not happen.
  function restore() {
    if (!pending || pending.done) return;
    var card = pending.card;
    card.classList.remove("wasl-busy");
    if (pending.next && pending.next.parentNode === pending.from) {
      pending.from.insertBefore(card, pending.next);
    } else {
      pending.from.appendChild(card);
    }
    pending.done = true;
    var link = card.querySelector("a[href]");
    if (link) link.focus();
  }

  // Swap in what the server sent back: the moved card and the fresh column headers.
  function applyFragments(html) {
    var fragment = parse(html);
    var message = fragment.querySelector("[data-notice]");
    Array.prototype.forEach.call(fragment.querySelectorAll("[id]"), function (node) {
      var current = document.getElementById(node.id);
      if (current) current.replaceWith(node);
    });
    if (pending && !pending.done) {
      // A won or lost deal leaves the board: the server sends no card for it.
      var stayed = document.getElementById(pending.card.id);
      if (stayed && stayed.closest('.wasl-cards[data-kind="open"]') === null) stayed.remove();
      pending.done = true;
      var card = document.getElementById(pending.card.id);
      if (card && window.htmx) window.htmx.process(card);
      var focusTarget = card && card.querySelector("a[href]");
      if (focusTarget) focusTarget.focus();
    }
    if (message) notice(message.textContent.trim(), "success");
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken(), "X-Wasl-Fragment": "1"}
    }).then(function (response) {
      return response.text().then(function (text) { return {response: response, text: text}; });
    });
  }

  function modal(el) { return window.bootstrap.Modal.getOrCreateInstance(el); }

  function failed(result) {
    var status = result.response.status;
    var fallback = status === 403 ? board.dataset.errorForbidden : board.dataset.errorGeneric;
    restore();
    notice(status === 422 ? errorText(result.text, fallback) : fallback, "danger");
  }

  function handleResult(result, inDialog) {
    var response = result.response;
    var redirect = response.headers.get("X-Wasl-Redirect");
    if (redirect) {
      window.location.assign(redirect);
      return;
    }
    if (response.ok) {
      applyFragments(result.text);
      if (inDialog) modal(dialogEl).hide();
      return;
    }
    if (inDialog && response.status === 422) {
      showDialog(result.text);
      return;
    }
    if (inDialog) modal(dialogEl).hide();
    failed(result);
  }

  function showDialog(html) {
    var content = dialogEl.querySelector(".modal-content");
    content.innerHTML = html;
    modal(dialogEl).show();
    var first = content.querySelector("[data-error] ~ select, .is-invalid, select, input:not([type=hidden])");
    if (first) setTimeout(function () { first.focus(); }, 150);
  }

  // The card was dropped into (or sent by the menu to) the list of `stage`.
  function moved(card, from, next, list) {
    if (!list || list === from) return;
    pending = {card: card, from: from, next: next, stage: list.dataset.stage, done: false};
    var kind = list.dataset.kind;
    if (kind === "won" || kind === "lost") {
      var query = boardFields(new FormData());
      var params = new URLSearchParams(query);
      params.set("stage", pending.stage);
      fetch(moveUrl(card) + "?" + params.toString(), {
        credentials: "same-origin", headers: {"X-Wasl-Fragment": "1"}
      }).then(function (response) {
        return response.text().then(function (text) { return {response: response, text: text}; });
      }).then(function (result) {
        if (result.response.ok) showDialog(result.text); else failed(result);
      }).catch(function () { failed({response: {status: 0}, text: ""}); });
      return;
    }
    card.classList.add("wasl-busy");
    var form = boardFields(new FormData());
    form.append("stage", pending.stage);
    post(moveUrl(card), form).then(function (result) {
      card.classList.remove("wasl-busy");
      handleResult(result, false);
    }).catch(function () { failed({response: {status: 0}, text: ""}); });
  }

  if (dialogEl) {
    dialogEl.addEventListener("submit", function (event) {
      var form = event.target.closest("form[data-move-form]");
      if (!form) return;
      event.preventDefault();
      var button = form.querySelector("[type=submit]");
      if (button) button.disabled = true;
      post(form.action, new FormData(form)).then(function (result) {
        handleResult(result, true);
      }).catch(function () {
        if (button) button.disabled = false;
      });
    });
    // Closing the dialog without saving cancels the move.
    dialogEl.addEventListener("hidden.bs.modal", function () { restore(); });
  }

  // The won/lost buttons of a deal's page open the same dialog.
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-move-open]");
    if (!opener || !dialogEl) return;
    event.preventDefault();
    pending = null;
    fetch(opener.dataset.moveOpen, {credentials: "same-origin", headers: {"X-Wasl-Fragment": "1"}})
      .then(function (response) { return response.text(); })
      .then(showDialog);
  });

  if (!board) return;

  var dragNext = null;
  Array.prototype.forEach.call(document.querySelectorAll(".wasl-cards"), function (list) {
    if (!window.Sortable) return;
    window.Sortable.create(list, {
      group: "board",
      sort: false,
      draggable: ".wasl-movable",
      handle: ".wasl-drag",
      animation: 120,
      onStart: function (event) { dragNext = event.item.nextElementSibling; },
      onEnd: function (event) { moved(event.item, event.from, dragNext, event.to); }
    });
  });

  // Keyboard and touch alternative: the card's "Move to…" button opens a menu of stages.
  var menuCard = null;
  board.addEventListener("click", function (event) {
    var button = event.target.closest("[data-move-menu]");
    if (!button || !menuEl) return;
    menuCard = button.closest(".wasl-card");
    var current = menuCard.parentNode.dataset.stage;
    Array.prototype.forEach.call(menuEl.querySelectorAll("[data-target-stage]"), function (item) {
      item.disabled = item.dataset.targetStage === current;
    });
    modal(menuEl).show();
  });
  if (menuEl) {
    menuEl.addEventListener("click", function (event) {
      var item = event.target.closest("[data-target-stage]");
      if (!item || !menuCard) return;
      var card = menuCard;
      menuCard = null;
      modal(menuEl).hide();
      var from = card.parentNode;
      var next = card.nextElementSibling;
      var list = listOf(item.dataset.targetStage);
      list.insertBefore(card, list.firstChild);
      moved(card, from, next, list);
    });
  }

  // The filters apply as soon as one changes.
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-autosubmit]");
    if (form) form.submit();
  });
})();
