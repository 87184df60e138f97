/* Opening a notification's link marks it read: a POST that survives the navigation
 * (keepalive), so the link stays a real link and works without JavaScript too. */
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  }

  document.addEventListener("click", function (event) {
    const link = event.target.closest && event.target.closest("a[data-read-url]");
    if (!link) return;
    fetch(link.getAttribute("data-read-url"), {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
      keepalive: true,
    });
  });
})();
