// The attendee's badges page registers a service worker so that it opens without a network.
"use strict";
if (window.isSecureContext && "serviceWorker" in navigator) {
  navigator.serviceWorker.register("/me/qr_checkin/sw.js?page=badges", { scope: "/me/qr_checkin/" }).catch(() => {});
}
