// The staff scanner: camera (jsQR), keyboard wedge and typed short codes; online it asks the
// scan API, offline it verifies the Ed25519 signature against the downloaded roster and queues
// the scan (IndexedDB, with a nonce, the device time and the measured clock offset) until the
// server answers again. Strings come translated from the page (#qr-strings).
"use strict";

const root = document.getElementById("qr-scanner");
const T = JSON.parse(document.getElementById("qr-strings").textContent);
const CONFERENCE = Number(root.dataset.conference);
const API = `/api/v1/qr_checkin/conferences/${CONFERENCE}`;
const KEY_STORE = `qr_checkin.device.${CONFERENCE}`;
const DOMAIN = new TextEncoder().encode("hoinghi/qr_checkin/credential/v1\u0000");
const RETRY_MS = 15000;
const SAME_CODE_PAUSE_MS = 3000;

const $ = (id) => document.getElementById(id);
const state = { token: null, offset: 0, roster: null, busy: false, last: { text: "", at: 0 }, db: null, scannedLocally: new Set() };

// -- secure context --------------------------------------------------------------------------------
function secure() {
  return window.isSecureContext === true;
}

// -- device token: from the fragment once (never sent to the server in a URL), then localStorage -
function loadToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("k")) {
    localStorage.setItem(KEY_STORE, fragment.get("k"));
    history.replaceState(null, "", location.pathname);
  }
  state.token = localStorage.getItem(KEY_STORE);
  return state.token;
}

async function api(path, options = {}) {
  const response = await fetch(API + path, {
    ...options, credentials: "omit", cache: "no-store",
    headers: { "Content-Type": "application/json", "X-Device-Token": state.token, ...(options.headers || {}) },
  });
  return response;
}

// -- IndexedDB: queue of offline scans and the roster ----------------------------------------------
function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(`qr_checkin_${CONFERENCE}`, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore("queue", { keyPath: "nonce" });
      request.result.createObjectStore("roster");
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function tx(store, mode, fn) {
  return new Promise((resolve, reject) => {
    const transaction = state.db.transaction(store, mode);
    const result = fn(transaction.objectStore(store));
    transaction.oncomplete = () => resolve(result && result.result !== undefined ? result.result : result);
    transaction.onerror = () => reject(transaction.error);
  });
}

const queueAll = () => tx("queue", "readonly", (s) => s.getAll());
const queuePut = (item) => tx("queue", "readwrite", (s) => s.put(item));
const queueDelete = (nonce) => tx("queue", "readwrite", (s) => s.delete(nonce));

// -- clock offset to the server ----------------------------------------------------------------------
async function measureOffset() {
  const sent = Date.now();
  const response = await fetch("/api/v1/qr_checkin/device", { credentials: "omit", cache: "no-store", headers: { "X-Device-Token": state.token } });
  const received = Date.now();
  if (!response.ok) throw new Error(String(response.status));
  const info = await response.json();
  state.offset = Date.parse(info.server_time) - Math.round((sent + received) / 2);
  localStorage.setItem(`${KEY_STORE}.offset`, String(state.offset));  // a reload while offline keeps it
  return info;
}

// -- roster and keys for offline checks ----------------------------------------------------------
async function downloadRoster() {
  const response = await api("/roster");
  if (!response.ok) return;
  const roster = await response.json();
  await tx("roster", "readwrite", (s) => s.put(roster, "current"));
  state.roster = prepareRoster(roster);
  showRosterState();
}

function prepareRoster(roster) {
  return { ...roster, byHash: new Map(roster.entries.map((e) => [e.h, e])), byShort: new Map(roster.entries.map((e) => [e.s, e])) };
}

async function loadRoster() {
  const roster = await tx("roster", "readonly", (s) => s.get("current"));
  if (!roster) return;
  if (Date.parse(roster.wipe_after) < Date.now() + state.offset) {  // the conference is over: nothing kept
    await tx("roster", "readwrite", (s) => s.delete("current"));
    return;
  }
  state.roster = prepareRoster(roster);
  showRosterState();
}

function showRosterState() {
  if (!state.roster) return;
  $("qr-roster").textContent = T.roster_ready.replace("{count}", state.roster.entries.length)
    .replace("{time}", new Date(state.roster.generated_at).toLocaleString("vi-VN"));
}

// -- local verification --------------------------------------------------------------------------
function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0;
  const out = [];
  for (const ch of text) {
    const index = alphabet.indexOf(ch);
    if (index < 0) return null;
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8; }
  }
  return new Uint8Array(out);
}

async function sha256hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const hexBytes = (hex) => new Uint8Array(hex.match(/../g).map((h) => parseInt(h, 16)));

async function ed25519Verify(publicHex, signature, message) {
  try {
    const key = await crypto.subtle.importKey("raw", hexBytes(publicHex), { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch (error) {
    // Chrome before 137, Safari before 17: the vendored pure-JS verifier
    const noble = await import("/static/qr_checkin/vendor/noble-ed25519-2.3.0.js");
    return noble.verifyAsync(signature, message, hexBytes(publicHex));
  }
}

async function verifyLocally(item) {
  const roster = state.roster;
  if (!roster) return { status: null };
  if (item.short_code) {
    const entry = roster.byShort.get(await sha256hex(`${CONFERENCE}:${item.short_code}`));
    return entry ? { status: "checked_in", entry, key: entry.s } : { status: "not_invited" };
  }
  const text = item.credential.trim().toUpperCase();
  if (!text.startsWith("HN1")) return { status: "forged" };
  const raw = base32(text.slice(3));
  if (!raw || raw.length !== 77) return { status: "forged" };
  const view = new DataView(raw.buffer);
  const conference = view.getUint32(1), keyId = view.getUint16(11);
  const key = roster.keys.find((k) => k.id === keyId);
  const message = new Uint8Array(DOMAIN.length + 13);
  message.set(DOMAIN);
  message.set(raw.slice(0, 13), DOMAIN.length);
  if (!key || !(await ed25519Verify(key.public_key, raw.slice(13), message))) return { status: "forged" };
  if (conference !== CONFERENCE) return { status: "wrong_conference" };
  const hash = await sha256hex(text);
  const entry = roster.byHash.get(hash);
  return entry ? { status: "checked_in", entry, key: hash } : { status: "not_invited" };
}

// -- results on screen -----------------------------------------------------------------------------
const COLOURS = { checked_in: "green", already_checked_in: "amber" };
let hideTimer = null;

function show(answer, offline) {
  const screen = $("qr-result");
  const colour = COLOURS[answer.status] || "red";
  screen.className = `qr-result qr-${colour}`;
  screen.dataset.status = answer.status;
  $("qr-result-status").textContent = T.status[answer.status] || answer.error || T.error;
  const person = answer.person;
  $("qr-result-name").textContent = person ? person.full_name : "";
  $("qr-result-unit").textContent = person ? person.unit_name : "";
  let detail = "";
  if (answer.status === "already_checked_in" && answer.at) {
    detail = T.already_at.replace("{time}", new Date(answer.at).toLocaleTimeString("vi-VN")).replace("{by}", answer.by || "");
  } else if (answer.status === "wrong_venue" && answer.expected_venue) {
    detail = T.expected_venue.replace("{venue}", answer.expected_venue);
  }
  $("qr-result-detail").textContent = detail + (offline ? ` ${T.offline_queued}` : "");
  screen.hidden = false;
  feedback(colour);
  clearTimeout(hideTimer);
  hideTimer = setTimeout(() => { screen.hidden = true; $("qr-input").focus(); }, 2500);
}

let audio = null;
function feedback(colour) {
  try {
    audio = audio || new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = colour === "green" ? 880 : colour === "amber" ? 600 : 220;
    gain.gain.value = 0.15;
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + (colour === "red" ? 0.5 : 0.15));
  } catch (error) { /* no sound where the browser forbids it */ }
  if (navigator.vibrate) navigator.vibrate(colour === "green" ? 80 : colour === "amber" ? [80, 60, 80] : [300]);
}

// -- one scan --------------------------------------------------------------------------------------
function classify(text) {
  const clean = text.trim();
  if (/^HN1/i.test(clean)) return { credential: clean };
  const code = clean.toUpperCase().replace(/[\s-]/g, "");
  return { short_code: code };
}

function nonce() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

async function submit(text) {
  const now = Date.now();
  if (!text || (text === state.last.text && now - state.last.at < SAME_CODE_PAUSE_MS)) return;
  state.last = { text, at: now };
  const item = { ...classify(text), nonce: nonce(), device_time: new Date(now).toISOString(), offset_ms: state.offset };
  try {
    // online: the server's clock dates the scan; the device time travels only with queued scans
    const live = { ...item, device_time: undefined, offset_ms: undefined };
    const response = await api("/scans", { method: "POST", body: JSON.stringify(live) });
    if (response.status >= 500) throw new Error("server");
    const answer = await response.json();
    show(response.ok ? answer : { status: null, error: answer.error }, false);
    addHistory(response.ok ? answer : null);
  } catch (error) {
    await offlineScan(item);
  }
}

async function offlineScan(item) {
  const local = await verifyLocally(item);
  if (local.status === null) {
    show({ status: null, error: T.no_roster }, false);
    return;
  }
  let status = local.status;
  if (status === "checked_in") {
    if (state.scannedLocally.has(local.key)) status = "already_checked_in";
    state.scannedLocally.add(local.key);
  }
  // refusals are queued too: the server has the last word (a revocation after the download)
  await queuePut(item);
  updateQueueCount();
  const person = local.entry ? { full_name: local.entry.name, unit_name: local.entry.unit } : null;
  show({ status, person, at: item.device_time, by: T.this_device }, true);
}

async function flush() {
  if (!state.db || !state.token) return;
  const items = await queueAll();
  if (!items.length) return updateQueueCount();
  try {
    const response = await api("/scans/batch", { method: "POST", body: JSON.stringify({ scans: items.slice(0, 500) }) });
    if (!response.ok) return;
    const { results } = await response.json();
    for (const result of results) if (result.status) await queueDelete(result.nonce);
    addHistory(null);
  } catch (error) { /* still offline: next timer or reconnect */ }
  updateQueueCount();
}

async function updateQueueCount() {
  const items = state.db ? await queueAll() : [];
  $("qr-queue").textContent = items.length ? T.queued.replace("{count}", items.length) : "";
  root.dataset.queued = String(items.length);
}

async function addHistory() {
  try {
    const response = await api("/recent");
    if (!response.ok) return;
    const { results } = await response.json();
    const list = $("qr-history");
    list.replaceChildren(...results.slice(0, 10).map((answer) => {
      const li = document.createElement("li");
      li.className = `qr-${COLOURS[answer.status] || "red"}`;
      li.textContent = `${answer.person ? answer.person.full_name : "—"} · ${T.status[answer.status] || ""}`;
      return li;
    }));
  } catch (error) { /* offline */ }
}

// -- camera ------------------------------------------------------------------------------------------
async function startCamera() {
  if (!secure() || !navigator.mediaDevices) return;
  const video = $("qr-video");
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch (error) {
    $("qr-camera-state").textContent = T.no_camera;
    return;
  }
  await video.play();
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const tick = () => {
    if (video.readyState >= 2 && !state.busy) {
      const scale = Math.min(1, 640 / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      if (found && found.data) {
        state.busy = true;
        submit(found.data).finally(() => { state.busy = false; });
      }
    }
    setTimeout(tick, 150);
  };
  $("qr-camera-state").textContent = T.camera_on;
  tick();
}

// -- start ---------------------------------------------------------------------------------------------
async function start() {
  if (!secure()) $("qr-insecure").hidden = false;
  if (!loadToken()) {
    $("qr-setup").hidden = false;
    return;
  }
  $("qr-main").hidden = false;
  try {
    state.db = await openDb();
  } catch (error) { state.db = null; }
  try {
    const info = await measureOffset();
    $("qr-conference").textContent = info.conference.title;  // the page itself names nothing: only the key does
    $("qr-device").textContent = `${info.device.label} · ${info.venue ? info.venue.name : T.whole_conference}`;
    if (state.db) await downloadRoster();
  } catch (error) {
    state.offset = Number(localStorage.getItem(`${KEY_STORE}.offset`) || 0);
    $("qr-device").textContent = T.offline_start;
    if (state.db) await loadRoster();
  }
  await updateQueueCount();
  flush();
  setInterval(flush, RETRY_MS);
  window.addEventListener("online", flush);
  if (secure() && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(`/qr_checkin/conferences/${CONFERENCE}/sw.js?page=scanner`).catch(() => {});
  }
  startCamera();
  root.dataset.ready = "true";
}

$("qr-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("qr-input");
  const text = input.value;
  input.value = "";
  submit(text);
});
$("qr-setup-form").addEventListener("submit", (event) => {
  event.preventDefault();
  localStorage.setItem(KEY_STORE, $("qr-setup-token").value.trim());
  location.reload();
});
$("qr-forget").addEventListener("click", async () => {
  localStorage.removeItem(KEY_STORE);
  if (state.db) await tx("roster", "readwrite", (s) => s.delete("current"));
  location.reload();
});
$("qr-result").addEventListener("click", () => { $("qr-result").hidden = true; $("qr-input").focus(); });
start();
