// hoinghi: the little JavaScript the pages need. No inline scripts anywhere (CSP script-src 'self').
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  // Every htmx request that changes something carries the CSRF token in a header.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") { event.detail.headers["X-CSRFToken"] = csrf; }
  });

  var LIVE_EVENTS = ["snapshot", "attendance_recorded", "rsvp_changed", "invitations_issued", "invitations_withdrawn",
    "conference_published", "conference_revised", "conference_cancelled", "conference_ended"];

  // Live regions: <div data-live="/api/v1/conferences/1/live" hx-get="…fragment…" hx-trigger="live">.
  // A server-sent event from the stream asks htmx to re-fetch the region (debounced).
  function connectLive(element) {
    if (!window.EventSource || element.dataset.liveConnected) { return; }
    element.dataset.liveConnected = "1";
    var timer = null;
    var source = new EventSource(element.dataset.live);
    source.onmessage = function () {
      if (timer) { return; }
      timer = setTimeout(function () { timer = null; window.htmx && htmx.trigger(element, "live"); }, 300);
    };
    source.addEventListener("update", source.onmessage);
    // the stream names each event by its kind (web/live.py): a snapshot on (re)connecting, then changes
    LIVE_EVENTS.forEach(function (name) { source.addEventListener(name, source.onmessage); });
  }
  function scan(root) { (root || document).querySelectorAll("[data-live]").forEach(connectLive); }
  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:load", function (event) { scan(event.detail.elt); });

  // Confirmation for dangerous buttons: <button data-confirm="…">.
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm]");
    if (target && !window.confirm(target.getAttribute("data-confirm"))) { event.preventDefault(); }
  });

  // Copy buttons: <button data-copy="text">.
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-copy]");
    if (!target || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(target.getAttribute("data-copy"));
    target.classList.add("copied");
  });
})();
