/* Stage settings: drag stages by their handle; the new order is posted as a whole list so
 * the server can refuse it if someone else changed the stages meanwhile. */
(function () {
  "use strict";
  const root = document.getElementById("stage-settings");
  if (!root) return;

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function init(scope) {
    const list = scope.querySelector ? scope.querySelector("#stage-list-items") : null;
    if (!list || list._sortable) return;
    list._sortable = Sortable.create(list, {
      handle: ".drag-handle",
      draggable: ".stage-row",
      animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? 0 : 150,
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex) return;
        const values = { stage: Array.from(list.querySelectorAll(".stage-row")).map(function (row) { return row.dataset.stageId; }) };
        htmx.ajax("POST", root.dataset.orderUrl, { target: "#stage-list", swap: "innerHTML", values: values, headers: { "X-CSRFToken": csrfToken() } });
      },
    });
  }

  document.body.addEventListener("crm:announce", function (event) {
    const region = document.getElementById("live-region");
    if (region) region.textContent = event.detail.message;
  });

  /* Removing a stage: its Remove… button opens a confirmation dialog (natively through
   * commandfor where the browser has invoker commands); the summary follows the chosen target,
   * and closing the dialog returns focus to the button that opened it. */
  const nativeInvokers = "command" in HTMLButtonElement.prototype;

  root.addEventListener("click", function (event) {
    const opener = event.target.closest("[data-open-dialog]");
    if (!opener) return;
    const dialog = document.getElementById(opener.dataset.openDialog);
    dialog._returnFocus = opener;
    if (!nativeInvokers && !dialog.open) dialog.showModal();
  });

  root.addEventListener("change", function (event) {
    const select = event.target.closest("[data-removal-target]");
    if (!select) return;
    const name = select.form.querySelector("[data-removal-target-name]");
    if (name) name.textContent = select.options[select.selectedIndex].text;
  });

  root.addEventListener("close", function (event) {
    const dialog = event.target;
    const back = dialog._returnFocus;
    dialog._returnFocus = null;
    if (back && document.body.contains(back)) back.focus();
  }, true);

  htmx.onLoad(function (element) { init(document); });
  init(document);
})();
