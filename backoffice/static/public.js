// Dialogue citoyen — public pages. Everything works without this script; it only helps.
"use strict";

// A message after an action (registered, contribution sent, choices saved) is read where the
// person acted: the focus moves to it, so that a screen reader reads it and a phone shows it.
document.addEventListener("DOMContentLoaded", () => {
  const notice = document.querySelector("[data-notice]");
  if (notice) {
    notice.focus();
  }
});
