// Keeps a page of the plugin loadable offline: the page itself (network first, the last copy
// when the network fails) and its static files. API calls are never cached.
"use strict";
const CACHE = "qr_checkin-v1";
const STATIC = ["/static/qr_checkin/scanner.js", "/static/qr_checkin/scanner.css", "/static/qr_checkin/vendor/jsQR-1.4.0.js",
  "/static/qr_checkin/vendor/noble-ed25519-2.3.0.js", "/static/qr_checkin/badges.js", "/static/css/app.css", "/static/js/app.js", "/static/vendor/htmx-2.0.11.min.js"];

// the page this worker keeps, relative to its scope: sw.js?page=scanner or sw.js?page=badges
const PAGE = new URL(self.registration.scope).pathname + (new URL(location.href).searchParams.get("page") || "");

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll([...STATIC, PAGE])).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  event.respondWith(fetch(event.request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(event.request, copy));
    }
    return response;
  }).catch(() => caches.match(event.request, { ignoreSearch: true }).then((hit) => hit || Response.error())));
});
