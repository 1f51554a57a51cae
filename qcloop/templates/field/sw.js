/* qcloop field: the service worker (shell {{ version }}).
 *
 * - keeps the app shell for offline use: the /field/ page network-first (a fresh copy when
 *   there is signal, the kept one when there is none) and the static files cache-first (their
 *   names carry a hash of their content, so a kept copy is never stale);
 * - syncs in the background: on a `sync` event it asks an open page to sync, or, with no page
 *   open, runs the same engine itself (store.js and sync.js, shared with the page).
 * The API and photos are never cached here: they go to the network. */
"use strict";

const VERSION = "{{ version }}";
const SHELL_CACHE = "qcloop-field-shell-" + VERSION;
const SHELL_URL = "{% url 'field:app' %}";
const ASSETS = {{ assets_json|safe }};
const SYNC_TAG = "qcloop-sync";

importScripts(...{{ worker_scripts_json|safe }});

const assetPaths = new Set(ASSETS.map((asset) => new URL(asset, self.location.origin).pathname));

/* The page, only when it is the real page (not a sign-in redirect or an error). */
async function keepShell(cache) {
  try {
    const response = await fetch(SHELL_URL, { credentials: "same-origin", cache: "no-store" });
    if (response.ok && !response.redirected) await cache.put(SHELL_URL, response);
  } catch (offline) {
    // Kept on the next visit with signal.
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      await cache.addAll(ASSETS);
      await keepShell(cache);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("qcloop-field-shell-") && name !== SHELL_CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

async function shellNetworkFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected && response.type === "basic") {
      await cache.put(SHELL_URL, response.clone());
    }
    return response;
  } catch (offline) {
    const kept = await cache.match(SHELL_URL);
    if (kept) return kept;
    return new Response(
      "<!doctype html><meta charset=utf-8><title>qcloop field</title>" +
        "<p>No connection, and the field app is not on this phone yet. Open it once with signal.</p>",
      { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } },
    );
  }
}

async function assetCacheFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  const kept = await cache.match(request, { ignoreSearch: true });
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === SHELL_URL) {
    event.respondWith(shellNetworkFirst(request));
  } else if (assetPaths.has(url.pathname)) {
    event.respondWith(assetCacheFirst(request));
  }
});

/* Background sync: a page that is open does the work (it shows progress); with none, the
 * worker does. A failed run throws, so the browser tries again later. */
async function backgroundSync() {
  const windows = await self.clients.matchAll({ type: "window" });
  if (windows.length) {
    for (const client of windows) client.postMessage({ type: SYNC_TAG });
    return;
  }
  const summary = await self.qcloopSync.run();
  if (!summary.ok && summary.reason !== "signed_out") {
    throw new Error("qcloop sync incomplete: " + summary.reason);
  }
}

self.addEventListener("sync", (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(backgroundSync());
});
