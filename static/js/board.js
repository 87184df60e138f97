/*
 * The board's glue: SortableJS for drag and drop, a Move dialog for keyboard and
 * screen-reader users, and one function (sendMove) that both use to ask the server.
 * The server answers with the moved card and the column headers that changed; on a refusal
 * the card goes back where it was and the message says why.
 */
(function () {
  "use strict";

  const board = document.getElementById("board");
  if (!board) return;

  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const zones = document.getElementById("outcome-zones");
  const moveDialog = document.getElementById("move-dialog");
  const lostDialog = document.getElementById("lost-dialog");
  const lostForm = document.getElementById("lost-form");
  const quickAddDialog = document.getElementById("quick-add-dialog");
  const sortables = [];
  let pending = 0;
  let dragging = false;
  let lostTarget = null; // {card, origin} while the lost dialog is open
  let moveTarget = null; // the card the Move dialog acts on

  /* ---- Announcements: a visible toast and the page's polite live region ------------- */

  function say(message) {
    const region = document.getElementById("live-region");
    if (region) {
      region.textContent = "";
      window.setTimeout(function () { region.textContent = message; }, 50);
    }
  }

  function announce(message, level) {
    say(message);
    let toast = document.getElementById("board-toast");
    if (!toast) {
      toast = document.createElement("div");
      toast.id = "board-toast";
      toast.className = "toast";
      toast.setAttribute("aria-hidden", "true");
      document.body.appendChild(toast);
    }
    toast.textContent = message;
    toast.dataset.level = level || "success";
    toast.classList.add("is-visible");
    window.clearTimeout(toast._timer);
    toast._timer = window.setTimeout(function () { toast.classList.remove("is-visible"); }, 4500);
  }

  document.body.addEventListener("crm:announce", function (event) {
    announce(event.detail.message, event.detail.level);
  });

  function announceFromHeaders(response, fallback, level) {
    const trigger = response.headers.get("HX-Trigger");
    if (trigger) {
      try {
        const detail = JSON.parse(trigger)["crm:announce"];
        if (detail) { announce(detail.message, detail.level); return; }
      } catch (error) { /* fall through to the fallback message */ }
    }
    announce(fallback, level);
  }

  /* After filtering, tell screen readers what the columns now hold (the page does not reload). */
  document.body.addEventListener("htmx:afterSwap", function (event) {
    const source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!event.detail.target || event.detail.target.id !== "board-columns") return;
    if (!source || !source.matches || !source.matches(".board-filters")) return;
    let total = 0;
    board.querySelectorAll(".column-count").forEach(function (count) {
      total += parseInt(count.textContent, 10) || 0;
    });
    const deals = total === 1 ? "1 deal" : total + " deals";
    if (!board.querySelector(".cards[data-filtered]")) {
      say("Filters cleared: " + deals + " on the board.");
    } else {
      say(total ? deals + (total === 1 ? " matches" : " match") + " the filters." : "No deals match the filters.");
    }
  });

  /* ---- Busy state: no polling refresh while someone drags, moves or types ------------- */

  function isBusy() {
    // data-live="off" on the board pauses live updates (used by tests and while debugging).
    if (board.dataset.live === "off") return true;
    return dragging || pending > 0 || document.querySelector("dialog[open]") !== null;
  }

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "board-poll" && isBusy()) {
      event.preventDefault();
    }
  });

  function setSortablesDisabled(disabled) {
    sortables.forEach(function (sortable) { sortable.option("disabled", disabled); });
  }

  /* ---- Talking to the server --------------------------------------------------------- */

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  }

  function cardId(element) {
    return element && element.classList.contains("card") ? element.dataset.dealId : "";
  }

  function previousCard(card) {
    let node = card.previousElementSibling;
    while (node && !node.classList.contains("card")) node = node.previousElementSibling;
    return node;
  }

  function nextCard(card) {
    let node = card.nextElementSibling;
    while (node && !node.classList.contains("card")) node = node.nextElementSibling;
    return node;
  }

  function restore(card, origin) {
    if (origin && origin.parent) origin.parent.insertBefore(card, origin.next);
  }

  function originOf(card) {
    return { parent: card.parentNode, next: card.nextElementSibling };
  }

  /**
   * Ask the server to apply a move the DOM already shows (card in its new place), or an
   * outcome. values: {stage} | {outcome, lost_reason}. origin: where to put the card back.
   */
  async function sendMove(card, values, origin) {
    const poll = document.getElementById("board-poll");
    const body = new URLSearchParams((poll && poll.dataset.filterQuery) || "");
    body.set("version", card.dataset.version);
    body.set("context", "board");
    Object.keys(values).forEach(function (key) {
      if (values[key] !== undefined && values[key] !== null && values[key] !== "") {
        body.set(key, values[key]);
      }
    });
    if (values.stage) {
      const above = cardId(previousCard(card));
      const below = cardId(nextCard(card));
      if (above) body.set("above", above);
      if (below) body.set("below", below);
    }
    pending += 1;
    setSortablesDisabled(true);
    card.classList.add("is-saving");
    card.setAttribute("aria-busy", "true");
    const wasFocused = card.contains(document.activeElement);
    let response;
    try {
      response = await fetch(card.dataset.moveUrl, {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true", "HX-Current-URL": window.location.href },
        body: body,
        credentials: "same-origin",
      });
    } catch (error) {
      response = null;
    }
    pending -= 1;
    setSortablesDisabled(false);
    card.classList.remove("is-saving");
    card.removeAttribute("aria-busy");
    if (response && response.ok) {
      const html = await response.text();
      const id = card.id;
      htmx.swap(card, html, { swapStyle: "outerHTML" });
      announceFromHeaders(response, "Saved.", "success");
      const fresh = document.getElementById(id);
      if (fresh && wasFocused) fresh.focus();
      return true;
    }
    restore(card, origin);
    if (!response) {
      announce("The server could not be reached. The deal was not moved.", "error");
    } else {
      announceFromHeaders(response, "The deal could not be moved.", "error");
      if (response.status === 409 || response.status === 404) refreshBoard();
    }
    if (wasFocused) card.focus();
    return false;
  }

  function refreshBoard() {
    const poll = document.getElementById("board-poll");
    if (!poll) return;
    // Forget the stamp so the server renders the columns as they are now.
    const url = new URL(poll.getAttribute("hx-get"), window.location.href);
    url.searchParams.set("stamp", "refresh");
    htmx.ajax("GET", url.pathname + url.search, { target: "#board-columns", swap: "innerHTML" });
  }

  /* ---- Outcomes: won goes into the post-sale column, lost asks why ------------------- */

  function wonColumnList() {
    const id = board.dataset.wonStageId;
    return id ? document.getElementById("cards-" + id) : null;
  }

  function markWon(card, origin) {
    const list = wonColumnList();
    if (list) list.insertBefore(card, list.firstElementChild);
    sendMove(card, { outcome: "won" }, origin);
  }

  function openLostDialog(card, origin) {
    lostTarget = { card: card, origin: origin };
    lostForm.reset();
    document.getElementById("lost-error").hidden = true;
    lostDialog.querySelectorAll("[data-deal-title]").forEach(function (el) {
      el.textContent = "“" + card.dataset.title + "”";
    });
    lostDialog._returnFocus = card;
    lostDialog.showModal();
  }

  lostForm.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!lostTarget) return;
    const data = new FormData(lostForm);
    const choice = data.get("lost_reason_choice") || "";
    const details = (data.get("lost_reason") || "").trim();
    const reason = choice && details ? choice + ": " + details : choice || details;
    if (!reason) {
      const error = document.getElementById("lost-error");
      error.textContent = "Choose a reason or type your own.";
      error.hidden = false;
      return;
    }
    const target = lostTarget;
    lostTarget = null;
    lostDialog.close();
    await sendMove(target.card, { outcome: "lost", lost_reason: reason }, target.origin);
  });

  lostDialog.addEventListener("close", function () {
    if (lostTarget) {
      restore(lostTarget.card, lostTarget.origin);
      lostTarget = null;
    }
  });

  /* ---- Drag and drop ----------------------------------------------------------------- */

  function initSortables(root) {
    root.querySelectorAll(".cards").forEach(function (list) {
      if (list._sortable) return;
      list._sortable = Sortable.create(list, {
        group: "board",
        draggable: ".card",
        filter: ".load-more, .column-empty, .card-move, a",
        preventOnFilter: false,
        animation: reducedMotion ? 0 : 150,
        delay: 180,
        delayOnTouchOnly: true,
        ghostClass: "card-ghost",
        chosenClass: "card-chosen",
        dragClass: "card-drag",
        onStart: function (event) {
          dragging = true;
          event.item._origin = { parent: event.from, next: event.item.nextElementSibling };
          zones.classList.add("is-active");
        },
        onEnd: function (event) {
          dragging = false;
          zones.classList.remove("is-active");
          const card = event.item;
          const origin = card._origin;
          const outcome = event.to.dataset.outcome;
          if (outcome === "won") {
            markWon(card, origin);
          } else if (outcome === "lost") {
            restore(card, origin);
            openLostDialog(card, origin);
          } else if (event.from !== event.to || event.oldIndex !== event.newIndex) {
            sendMove(card, { stage: event.to.dataset.stageId }, origin);
          }
        },
      });
      sortables.push(list._sortable);
    });
  }

  zones.querySelectorAll(".drop-zone").forEach(function (zone) {
    sortables.push(Sortable.create(zone, {
      group: { name: "board", pull: false, put: true },
      draggable: ".card",
      ghostClass: "card-ghost",
      onAdd: function () { zone.classList.remove("is-over"); },
    }));
  });

  /* ---- The Move dialog: every move without a mouse ------------------------------------ */

  function openMoveDialog(card) {
    moveTarget = card;
    moveDialog.querySelectorAll("[data-deal-title]").forEach(function (el) {
      el.textContent = "“" + card.dataset.title + "”";
    });
    moveDialog.querySelectorAll("[data-move-stage]").forEach(function (button) {
      const current = button.dataset.moveStage === card.closest(".cards").dataset.stageId;
      button.disabled = current;
      button.setAttribute("aria-current", current ? "true" : "false");
    });
    moveDialog.querySelector('[data-move-step="up"]').disabled = !previousCard(card);
    moveDialog.querySelector('[data-move-step="down"]').disabled = !nextCard(card);
    moveDialog.querySelector('[data-move-outcome="won"]').disabled = card.classList.contains("is-won");
    moveDialog.querySelector('[data-move-outcome="lost"]').disabled = card.classList.contains("is-won");
    moveDialog._returnFocus = card;
    moveDialog.showModal();
  }

  moveDialog.addEventListener("click", function (event) {
    const button = event.target.closest("button");
    if (!button || !moveTarget || button.disabled) return;
    const card = moveTarget;
    const origin = originOf(card);
    if (button.dataset.moveStage) {
      const list = document.getElementById("cards-" + button.dataset.moveStage);
      moveTarget = null;
      moveDialog.close();
      list.insertBefore(card, list.firstElementChild);
      sendMove(card, { stage: button.dataset.moveStage }, origin);
    } else if (button.dataset.moveStep) {
      moveTarget = null;
      moveDialog.close();
      if (button.dataset.moveStep === "up") {
        card.parentNode.insertBefore(card, previousCard(card));
      } else {
        card.parentNode.insertBefore(card, nextCard(card).nextElementSibling);
      }
      sendMove(card, { stage: card.parentNode.dataset.stageId }, origin);
    } else if (button.dataset.moveOutcome === "won") {
      moveTarget = null;
      moveDialog.close();
      markWon(card, origin);
    } else if (button.dataset.moveOutcome === "lost") {
      moveTarget = null;
      moveDialog._returnFocus = null;
      moveDialog.close();
      openLostDialog(card, origin);
    }
  });

  board.addEventListener("click", function (event) {
    const opener = event.target.closest("[data-open-move]");
    if (opener) openMoveDialog(opener.closest(".card"));
  });

  /* Keyboard shortcuts on a focused card: M opens the Move dialog. */
  board.addEventListener("keydown", function (event) {
    const card = event.target.closest && event.target.closest(".card");
    if (!card || event.target !== card) return;
    if (event.key === "m" || event.key === "M") {
      event.preventDefault();
      openMoveDialog(card);
    } else if (event.key === "Enter") {
      const link = card.querySelector(".card-title");
      if (link) link.click();
    }
  });

  /* ---- Dialogs: close buttons and focus return --------------------------------------- */

  document.querySelectorAll("dialog").forEach(function (dialog) {
    dialog.addEventListener("close", function () {
      const back = dialog._returnFocus;
      dialog._returnFocus = null;
      if (back && document.body.contains(back)) back.focus();
    });
  });

  board.addEventListener("click", function (event) {
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) closer.closest("dialog").close();
  });

  /* ---- Quick add: the form loads into a dialog; a new card lands on top --------------- */

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "quick-add-body") {
      if (!quickAddDialog.open) {
        quickAddDialog._returnFocus = event.detail.requestConfig && event.detail.requestConfig.elt;
        quickAddDialog.showModal();
      }
      const first = quickAddDialog.querySelector("[aria-invalid=true], [autofocus]");
      if (first) first.focus();
    }
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    const form = event.detail.elt;
    if (form && form.matches && form.matches("[data-quick-add]") && event.detail.successful) {
      quickAddDialog.close();
    }
  });

  /* ---- Plan a next step from a card: the form loads into a dialog; the card refreshes -- */

  const planDialog = document.getElementById("plan-dialog");

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "plan-body") {
      if (!planDialog.open) {
        planDialog._returnFocus = event.detail.requestConfig && event.detail.requestConfig.elt;
        planDialog.showModal();
      }
      const first = planDialog.querySelector("[aria-invalid=true], input[name=subject]");
      if (first) first.focus();
    }
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    const form = event.detail.elt;
    if (form && form.matches && form.matches("[data-plan-activity]") && event.detail.successful) {
      const card = document.getElementById(form.getAttribute("data-card-id"));
      planDialog._returnFocus = card; // the swapped-in card takes focus back
      planDialog.close();
    }
  });

  planDialog.addEventListener("close", function () {
    window.setTimeout(function () {
      const body = document.getElementById("plan-body");
      if (!planDialog.open) body.replaceChildren();
    }, 0);
  });

  /* Type-ahead: choosing an option fills the hidden id; typing again clears it. */
  quickAddDialog.addEventListener("click", function (event) {
    const option = event.target.closest(".typeahead-option");
    if (option) chooseOption(option);
  });

  quickAddDialog.addEventListener("keydown", function (event) {
    const option = event.target.closest(".typeahead-option");
    if (option && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      chooseOption(option);
    }
    const input = event.target.closest("[data-typeahead]");
    if (input && event.key === "ArrowDown") {
      const first = document.getElementById(input.getAttribute("aria-controls")).querySelector(".typeahead-option");
      if (first) { event.preventDefault(); first.focus(); }
    }
    if (option && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      const sibling = event.key === "ArrowDown" ? option.nextElementSibling : option.previousElementSibling;
      if (sibling && sibling.classList.contains("typeahead-option")) sibling.focus();
    }
  });

  quickAddDialog.addEventListener("input", function (event) {
    const input = event.target.closest("[data-typeahead]");
    if (!input) return;
    const hidden = input.form.elements[input.dataset.typeahead];
    if (hidden) hidden.value = "";
    input.setAttribute("aria-expanded", "true");
  });

  function chooseOption(option) {
    const form = option.closest("form");
    const field = option.dataset.field;
    form.elements[field].value = option.dataset.id;
    const input = form.querySelector('[data-typeahead="' + field + '"]');
    input.value = option.dataset.label;
    input.setAttribute("aria-expanded", "false");
    option.parentNode.innerHTML = "";
    if (option.dataset.organizationId && !form.elements.organization_id.value) {
      form.elements.organization_id.value = option.dataset.organizationId;
      form.elements.organization_name.value = option.dataset.organizationName;
    }
    input.focus();
  }

  /* ---- Every swap (first load, polling refresh, load more) gets drag and drop ---------- */

  htmx.onLoad(function (root) {
    if (root.querySelectorAll) initSortables(root.matches && root.matches(".cards") ? root.parentNode : root);
  });
  initSortables(document);
})();
