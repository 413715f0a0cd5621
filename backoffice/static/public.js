// Dialogue citoyen — public pages. Everything works without this script; it only helps.
"use strict";

// A message after an action (registered, contribution sent, choices saved) is read where the
// person acted: the focus moves to it, so that a screen reader reads it and a phone shows it.
// (On "load": the browser's own scroll to the address's #anchor comes before, and would
// otherwise take the focus back.)
window.addEventListener("load", () => {
  const notice = document.querySelector("[data-notice]");
  if (notice && document.activeElement !== notice) {
    notice.focus();
  }
});
