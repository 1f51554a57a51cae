/* qcloop field: the app an inspector uses on the factory floor.
 *
 * Everything works from IndexedDB (store.js): the screens show the downloaded package's
 * server state with the inspector's queued operations laid over it, so what they record
 * offline shows at once and survives a reload. Every action is written to the queue before
 * any network attempt; sync.js sends it when it can. Screens (by the URL's hash):
 *   #/           my milestones, to download and open
 *   #/m/<id>     one milestone: sample, checklist, defects, measurements, production, cartons,
 *                loading, photos, previous findings, submit
 *   #/queue      everything not yet on the server: conflicts, refusals, photos, settings */
(function () {
  "use strict";

  const store = self.qcloopStore;
  const engine = self.qcloopSync;
  const photoKit = self.qcloopPhotos;

  const SYNC_TAG = "qcloop-sync";
  const RETRY_FIRST_MS = 2000;
  const RETRY_MAX_MS = 60000;
  const CLASSES = ["critical", "major", "minor"];
  const COUNTS_PRODUCTION = ["IPC", "DUPRO", "PSI"];
  const LOADING_STEPS = [
    "Empty container",
    "Container number",
    "Half loaded",
    "Fully loaded",
    "Doors closed",
    "Seal applied",
  ];

  const app = {
    user: null, // signed in now, or the last one when offline or signed out
    signedOut: false,
    device: null,
    settings: { originals_only: false },
    packages: new Map(), // milestone id -> package, the current user's
    ops: [], // every queued op, all users
    photos: [], // every photo record on the phone, all users
    milestones: null, // the server's list, kept for offline
    counts: null,
    lastSummary: null,
    syncing: false,
    message: null, // a notice for the current screen: {kind, text}
  };

  // --- small DOM helpers -----------------------------------------------------------------

  const PROPERTIES = new Set(["value", "checked", "disabled", "selected", "hidden", "multiple", "open"]);

  /* h("button", {class: "primary", onclick: fn}, "Save") */
  function h(tag, props, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") element.className = value;
      else if (name === "dataset") Object.assign(element.dataset, value);
      else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else if (PROPERTIES.has(name)) element[name] = value;
      else element.setAttribute(name, value === true ? "" : value);
    }
    append(element, children);
    return element;
  }

  function append(element, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  }

  function $(selector, root = document) {
    return root.querySelector(selector);
  }

  function badge(text, extra) {
    return h("span", { class: `badge ${extra || ""}`.trim() }, text);
  }

  function humanise(text) {
    const words = String(text || "").replace(/_/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function megabytes(bytes) {
    if (bytes < 100 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} kB`;
    return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  }

  function when(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    const today = new Date().toDateString() === date.toDateString();
    const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return today ? time : `${date.toLocaleDateString([], { day: "numeric", month: "short" })} ${time}`;
  }

  function localDate() {
    const now = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  }

  function intOrNull(value) {
    const text = String(value ?? "").trim();
    if (text === "") return null;
    const number = Number(text);
    return Number.isInteger(number) ? number : NaN;
  }

  function decimalOrNull(value) {
    const text = String(value ?? "").trim().replace(",", ".");
    if (text === "") return null;
    const number = Number(text);
    return Number.isFinite(number) ? number : NaN;
  }

  function formValues(form) {
    const values = {};
    for (const element of form.elements) {
      if (!element.name) continue;
      values[element.name] = element.type === "checkbox" ? element.checked : element.value;
    }
    return values;
  }

  // --- one request at a time ----------------------------------------------------------------

  /* Every request the page makes goes through this one lane, one after the other: on a weak
   * signal parallel requests only slow each other down, and a sync never races a download. */
  let laneTail = Promise.resolve();
  function lane(task) {
    const run = laneTail.then(task, task);
    laneTail = run.catch(() => undefined);
    return run;
  }

  function get(url) {
    return lane(() => fetch(url, { credentials: "same-origin", cache: "no-store" }));
  }

  // --- loading what the phone holds --------------------------------------------------------

  async function loadQueue() {
    app.ops = await store.listOps();
    app.photos = await store.listPhotos();
    app.counts = await engine.counts(app.user ? app.user.id : null);
  }

  async function loadPackages() {
    app.packages = new Map();
    if (!app.user) return;
    for (const pkg of await store.listPackages(app.user.id)) app.packages.set(pkg.milestone.id, pkg);
  }

  function myOps(milestone) {
    return app.ops.filter(
      (op) => app.user && op.user === app.user.id && (milestone === undefined || op.milestone === milestone),
    );
  }

  function myPhotos(milestone) {
    return app.photos.filter(
      (photo) => app.user && photo.user === app.user.id && (milestone === undefined || photo.milestone === milestone),
    );
  }

  /* Who is signed in: the API says so when it answers; otherwise the last user stays. */
  async function checkSession() {
    const lastUser = await store.getMeta("last_user");
    try {
      const response = await get("/api/field/session");
      if (response.status === 401 || response.status === 403) {
        app.signedOut = true;
        app.user = lastUser;
        return;
      }
      if (!response.ok) throw new Error(`session ${response.status}`);
      const session = await response.json();
      app.signedOut = false;
      app.user = session.user;
      await store.setMeta("last_user", session.user);
    } catch (offline) {
      app.user = lastUser;
    }
  }

  // --- the local view: server state + queued ops --------------------------------------------

  function opKey(kind, data) {
    switch (kind) {
      case "answer":
        return `answer:${data.item_code}`;
      case "defect":
      case "defect_delete":
        return `defect:${data.uuid}`;
      case "reading":
        return `reading:${data.chart}:${data.sample_unit}:${data.point_code}`;
      case "production":
        return "production";
      case "carton":
        return `carton:${data.carton_number}`;
      case "loading":
        return "loading";
      default:
        return null; // start and submit are never superseded
    }
  }

  function pointOf(pkg, chartId, code) {
    const chart = pkg.charts.find((c) => c.id === chartId);
    return chart ? chart.points.find((p) => p.code === code) : null;
  }

  function withinTolerance(point, value) {
    if (!point) return true;
    const number = Number(value);
    return number >= Number(point.spec) - Number(point.minus) && number <= Number(point.spec) + Number(point.plus);
  }

  function replaceOrAdd(list, item, same) {
    const index = list.findIndex(same);
    if (index >= 0) list[index] = { ...list[index], ...item };
    else list.push(item);
  }

  const OVERLAY = {
    start(state) {
      state.status = "in_progress";
    },
    submit(state) {
      state.status = "submitted";
    },
    answer(state, data) {
      const item = state.checklist.find((i) => i.code === data.item_code);
      if (item) Object.assign(item, { result: data.result, value: data.value, note: data.note });
    },
    defect(state, data, pkg) {
      const code = pkg.defect_codes.find((c) => c.id === data.code);
      const defect = {
        ...data,
        description: data.description || (code ? code.name : ""),
        defect_class: data.defect_class || (code ? code.defect_class : "major"),
        code_label: code ? code.code : "",
        from_measurements: false,
      };
      replaceOrAdd(state.defects, defect, (d) => d.uuid === data.uuid);
    },
    defect_delete(state, data) {
      state.defects = state.defects.filter((d) => d.uuid !== data.uuid);
    },
    reading(state, data, pkg) {
      const reading = { ...data, in_tolerance: withinTolerance(pointOf(pkg, data.chart, data.point_code), data.value) };
      replaceOrAdd(
        state.readings,
        reading,
        (r) => r.chart === data.chart && r.sample_unit === data.sample_unit && r.point_code === data.point_code,
      );
    },
    production(state, data) {
      state.production = { ...data, flags: [], projected_completion: null };
    },
    carton(state, data) {
      replaceOrAdd(state.cartons, { ...data, problems: [] }, (c) => c.carton_number === data.carton_number);
    },
    loading(state, data) {
      state.loading = { ...data };
    },
    capa_verify(state, data, pkg) {
      state.capas = state.capas || structuredClone(pkg.capas || []);
      const capa = state.capas.find((c) => c.id === data.capa);
      if (capa) capa.verified_here = { ...data, queued: true };
    },
  };

  /* The milestone as the inspector has it: the server's state (at the last sync) with their
   * queued ops on top. A refused start or submit is not shown as done. */
  function localView(pkg) {
    const state = structuredClone(pkg.state);
    const queued = new Map(); // record key -> the op still waiting for it
    for (const op of myOps(pkg.milestone.id)) {
      if ((op.kind === "start" || op.kind === "submit") && op.status === "rejected") continue;
      OVERLAY[op.kind](state, op.data, pkg);
      queued.set(op.key || op.kind, op);
    }
    return { pkg, state, queued, missing: missingLocally(pkg, state), tally: tallyByClass(pkg, state) };
  }

  /* What must be recorded before submitting: the server's rule, computed on the phone. */
  function missingLocally(pkg, state) {
    const missing = state.checklist
      .filter((item) => item.mandatory && !item.result && !item.lab_test) // a lab answers those
      .map((item) => `${item.code} ${item.text}`);
    if (COUNTS_PRODUCTION.includes(pkg.milestone.kind) && !state.production) {
      missing.push("Production status (quantities counted)");
    }
    if (pkg.milestone.kind === "CLI" && !state.loading) missing.push("Container number and seal");
    return missing;
  }

  function tallyByClass(pkg, state) {
    const found = { critical: 0, major: 0, minor: 0 };
    for (const defect of state.defects) found[defect.defect_class] = (found[defect.defect_class] || 0) + defect.quantity;
    const plan = pkg.milestone.sampling && pkg.milestone.sampling.plan;
    return CLASSES.map((name) => {
      const limits = plan ? plan.classes.find((c) => c.defect_class === name) : null;
      let decision = null;
      if (limits) decision = found[name] >= limits.re ? "reject" : "accept";
      return { name, found: found[name], limits, decision };
    });
  }

  function queuedMark(view, key) {
    const op = view.queued.get(key);
    if (!op) return null;
    if (op.status === "conflict") return h("a", { class: "tag tag-conflict", href: "#/queue" }, "conflict");
    if (op.status === "rejected") return h("a", { class: "tag tag-rejected", href: "#/queue" }, "refused");
    return h("span", { class: "tag tag-queued", title: "Recorded on this phone, not on the server yet" }, "queued");
  }

  // --- recording -----------------------------------------------------------------------------

  /* Queue one operation (IndexedDB first), then show it, then try to send it. */
  async function record(milestoneId, kind, data) {
    const pkg = app.packages.get(milestoneId);
    const op = {
      id: crypto.randomUUID(),
      kind,
      data,
      key: opKey(kind, data),
      base_revision: pkg.revision,
      force: false,
      user: app.user.id,
      milestone: milestoneId,
      created_at: new Date().toISOString(),
      status: "pending",
    };
    await store.addOp(op);
    await loadQueue();
    renderStatus();
    askForBackgroundSync();
    syncSoon();
    return op;
  }

  /* The inspector's actions are handled one after the other, in the order they were made: a
   * tap on the next item while the last one is still being kept waits its turn. */
  let actions = Promise.resolve();
  function serial(handler) {
    return (...args) => {
      const run = actions.then(() => handler(...args));
      actions = run.catch((error) => {
        console.error("qcloop field: could not keep this on the phone", error);
        notify("warn", `Could not keep this on the phone: ${error.message || error}`);
      });
      return run;
    };
  }

  // --- sync: when and how often -----------------------------------------------------------

  let currentRun = null;
  let nextRun = null;
  let retryTimer = null;
  let retryDelay = 0;
  let soonTimer = null;

  /* One sync run at a time in this page; a call during a run waits for it, then runs again
   * (so what was recorded meanwhile goes too). */
  function syncNow() {
    if (!currentRun) {
      currentRun = runSync().finally(() => {
        currentRun = null;
      });
      return currentRun;
    }
    if (!nextRun) {
      nextRun = currentRun.then(() => {
        nextRun = null;
        return syncNow();
      });
    }
    return nextRun;
  }

  async function runSync() {
    clearTimeout(retryTimer);
    retryTimer = null;
    app.syncing = true;
    renderStatus();
    let summary;
    try {
      summary = await lane(() => engine.run({ onProgress: onUploadProgress }));
    } finally {
      app.syncing = false;
    }
    app.lastSummary = summary;
    if (summary.user) {
      const changedUser = !app.user || app.user.id !== summary.user.id;
      app.user = summary.user;
      app.signedOut = false;
      if (changedUser) await loadPackages();
    } else if (summary.reason === "signed_out") {
      app.signedOut = true;
    }
    for (const id of summary.milestones) {
      const pkg = await store.getPackage(app.user.id, id);
      if (pkg) app.packages.set(id, pkg);
    }
    await loadQueue();
    planRetry(summary);
    render();
    return summary;
  }

  /* Back-off while items wait and the network or the server failed: 2 s, 4 s, ... 60 s. */
  function planRetry(summary) {
    const transient = summary.reason === "network" || summary.reason === "server";
    const waiting = summary.sendable_ops > 0 || summary.pending_photos > 0;
    if (!transient || !waiting) {
      retryDelay = 0;
      return;
    }
    if (!navigator.onLine) return; // the `online` event will start the next run
    retryDelay = retryDelay ? Math.min(retryDelay * 2, RETRY_MAX_MS) : RETRY_FIRST_MS;
    retryTimer = setTimeout(syncNow, retryDelay);
  }

  /* After a recording: send soon, letting a burst of taps go in one batch. */
  function syncSoon() {
    if (!navigator.onLine || app.signedOut) return;
    clearTimeout(soonTimer);
    soonTimer = setTimeout(syncNow, 800);
  }

  let progressPending = false;
  function onUploadProgress() {
    // Cheap: at most one status refresh per frame while chunks go out.
    if (progressPending) return;
    progressPending = true;
    requestAnimationFrame(async () => {
      progressPending = false;
      app.counts = await engine.counts(app.user ? app.user.id : null);
      renderStatus();
    });
  }

  function askForBackgroundSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready
      .then((registration) => registration.sync && registration.sync.register(SYNC_TAG))
      .catch(() => {
        // No background sync here (Safari, Firefox): the online event and the timer do it.
      });
  }

  // --- the status bar and banners --------------------------------------------------------

  function waitingText(counts) {
    if (!counts || (counts.pending_ops === 0 && counts.pending_photos === 0)) return "Everything is on the server";
    const parts = [];
    parts.push(`${counts.pending_ops} record${counts.pending_ops === 1 ? "" : "s"}`);
    parts.push(
      `${counts.pending_photos} photo${counts.pending_photos === 1 ? "" : "s"}` +
        (counts.pending_photos ? ` (${megabytes(counts.pending_bytes)})` : ""),
    );
    return `${parts.join(", ")} waiting`;
  }

  function renderStatus() {
    const online = navigator.onLine;
    const net = $("#net-state");
    net.className = `net ${online ? "online" : "offline"}`;
    $(".net-label", net).textContent = online ? "Online" : "Offline";
    const counts = app.counts;
    const summary = $("#pending-summary");
    summary.textContent = waitingText(counts);
    summary.className = `waiting${counts && (counts.conflicts || counts.rejected) ? " attention" : ""}`;
    if (counts && (counts.conflicts || counts.rejected)) {
      const problems = [];
      if (counts.conflicts) problems.push(`${counts.conflicts} conflict${counts.conflicts === 1 ? "" : "s"}`);
      if (counts.rejected) problems.push(`${counts.rejected} refused`);
      summary.append(" · ", h("strong", {}, problems.join(", ")));
    }
    $("#last-sync").textContent = app.syncing
      ? "Syncing…"
      : counts && counts.last_sync
        ? `Last sync ${when(counts.last_sync)}`
        : "Never synced";
    const button = $("#sync-now");
    button.disabled = app.syncing;
    button.textContent = app.syncing ? "Syncing…" : "Sync now";
    $("#field-user").textContent = app.user ? app.user.name || app.user.email : "";
    renderBanners();
  }

  function renderBanners() {
    const banners = $("#banners");
    banners.replaceChildren();
    const counts = app.counts || { pending_ops: 0, pending_photos: 0, others_ops: 0, others_photos: 0 };
    if (app.signedOut) {
      const kept = counts.pending_ops + counts.pending_photos;
      banners.append(
        h(
          "div",
          { class: "banner banner-warn", id: "signed-out" },
          h("strong", {}, "Sign in again"),
          ` — ${kept} item${kept === 1 ? " is" : "s are"} kept on this phone and will be sent once you are signed in. `,
          h("a", { href: document.body.dataset.login, class: "button small-button" }, "Sign in"),
        ),
      );
    }
    const others = counts.others_ops + counts.others_photos;
    if (others) {
      banners.append(
        h(
          "div",
          { class: "banner banner-info", id: "others-waiting" },
          `Another inspector's items are waiting on this phone (${counts.others_ops} records, ${counts.others_photos} photos). `,
          "They stay here, untouched, until that inspector signs in on this phone.",
        ),
      );
    }
    if (app.message) {
      banners.append(h("div", { class: `banner banner-${app.message.kind}`, role: "alert" }, app.message.text));
    }
  }

  function notify(kind, text) {
    app.message = text ? { kind, text } : null;
    renderBanners();
  }

  // --- routing ---------------------------------------------------------------------------

  function route() {
    const hash = location.hash || "#/";
    const match = hash.match(/^#\/m\/(\d+)/);
    if (match) return { name: "milestone", id: Number(match[1]) };
    if (hash.startsWith("#/queue")) return { name: "queue" };
    return { name: "list" };
  }

  function render() {
    renderStatus();
    const where = route();
    const view = $("#view");
    const scroll = window.scrollY;
    revokeThumbnails();
    if (!app.user) {
      view.replaceChildren(renderNoUser());
      return;
    }
    if (where.name === "milestone") {
      const pkg = app.packages.get(where.id);
      view.replaceChildren(pkg ? renderMilestone(pkg) : renderNotDownloaded(where.id));
    } else if (where.name === "queue") {
      view.replaceChildren(renderQueue());
    } else {
      view.replaceChildren(renderList());
    }
    window.scrollTo(0, scroll);
  }

  function renderNoUser() {
    return h(
      "section",
      { class: "card" },
      h("h1", {}, "Welcome"),
      h("p", {}, "Sign in once with signal to download your inspections to this phone."),
      h("a", { class: "button", href: document.body.dataset.login }, "Sign in"),
    );
  }

  function renderNotDownloaded(id) {
    return h(
      "section",
      { class: "card" },
      h("h1", {}, "Not on this phone"),
      h("p", {}, "This milestone has not been downloaded. Download it from your list while you have signal."),
      h("a", { class: "button secondary", href: "#/" }, "My inspections"),
      h("span", { hidden: true }, String(id)),
    );
  }

  // --- screen: my milestones -------------------------------------------------------------

  async function refreshMilestones() {
    if (!app.user || app.signedOut || !navigator.onLine) return;
    try {
      const response = await get("/api/field/milestones");
      if (response.status === 401 || response.status === 403) {
        app.signedOut = true;
        renderStatus();
        return;
      }
      if (!response.ok) return;
      app.milestones = await response.json();
      await store.setMeta(`milestones:${app.user.id}`, app.milestones);
      if (route().name === "list") render();
    } catch (offline) {
      // The kept list stays.
    }
  }

  async function download(id, button) {
    button.disabled = true;
    button.textContent = "Downloading…";
    try {
      const response = await get(`/api/field/milestones/${id}/package`);
      if (response.status === 401 || response.status === 403) {
        app.signedOut = true;
        throw new Error("Sign in again to download.");
      }
      if (!response.ok) throw new Error(`The server answered ${response.status}.`);
      const pkg = await response.json();
      await store.savePackage(app.user.id, pkg);
      app.packages.set(pkg.milestone.id, pkg);
      notify(null, null);
      location.hash = `#/m/${pkg.milestone.id}`;
      render();
    } catch (error) {
      notify("warn", error instanceof TypeError ? "No connection: download when you have signal." : error.message);
      button.disabled = false;
      button.textContent = "Download";
    }
  }

  function milestoneCard(entry, pkg) {
    const id = entry.id;
    const waiting = myOps(id).length + myPhotos(id).filter((p) => !p.uploaded).length;
    const status = pkg ? localView(pkg).state.status : entry.status;
    const actions = [];
    if (pkg) {
      actions.push(h("a", { class: "button", href: `#/m/${id}`, dataset: { open: id } }, "Open"));
      if (navigator.onLine) {
        actions.push(
          h(
            "button",
            { type: "button", class: "secondary", onclick: (e) => download(id, e.currentTarget) },
            "Refresh",
          ),
        );
      }
    } else {
      actions.push(
        h(
          "button",
          { type: "button", class: "primary", dataset: { download: id }, onclick: (e) => download(id, e.currentTarget) },
          "Download",
        ),
      );
    }
    return h(
      "article",
      { class: "card milestone-card", dataset: { milestone: id } },
      h(
        "div",
        { class: "milestone-card-head" },
        h("span", { class: "kind" }, entry.kind),
        badge(humanise(status), `status-${status}`),
      ),
      h("h2", {}, `PO ${entry.po_number}`),
      h("p", { class: "muted" }, `${entry.supplier} · ${entry.factory}`),
      h(
        "p",
        { class: "small" },
        entry.inspection_date ? `Inspection ${entry.inspection_date}` : "Date to be set",
        pkg ? ` · on this phone since ${when(pkg.downloaded_at)}` : "",
        waiting ? ` · ${waiting} waiting` : "",
      ),
      h("div", { class: "actions" }, actions),
    );
  }

  function renderList() {
    const entries = new Map();
    for (const entry of app.milestones || []) entries.set(entry.id, entry);
    for (const pkg of app.packages.values()) {
      if (!entries.has(pkg.milestone.id)) {
        entries.set(pkg.milestone.id, {
          id: pkg.milestone.id,
          kind: pkg.milestone.kind,
          status: pkg.milestone.status,
          po_number: pkg.po.number,
          supplier: pkg.po.supplier,
          factory: pkg.po.factory.name,
          inspection_date: pkg.milestone.inspection_date,
        });
      }
    }
    const cards = Array.from(entries.values()).map((entry) => milestoneCard(entry, app.packages.get(entry.id)));
    return h(
      "div",
      { class: "list-screen" },
      h("h1", { class: "screen-title" }, "My inspections"),
      cards.length
        ? cards
        : h(
            "p",
            { class: "card empty" },
            navigator.onLine ? "No booked or running inspections for you." : "Offline: nothing downloaded yet.",
          ),
    );
  }

  // --- screen: one milestone -------------------------------------------------------------

  function editable(view) {
    return view.state.status === "in_progress";
  }

  function section(id, title, ...children) {
    return h("section", { class: "card field-section", id: `sec-${id}` }, h("h2", {}, title), children);
  }

  /* Re-render one section in place (the rest of the page, and what is being typed there, stays). */
  function refreshSections(pkg, names) {
    const view = localView(pkg);
    for (const name of names) {
      const old = document.getElementById(`sec-${name}`);
      const builder = SECTIONS[name];
      if (old && builder) {
        const fresh = builder(view);
        if (fresh) old.replaceWith(fresh);
      }
    }
  }

  function afterRecording(pkg, names) {
    refreshSections(pkg, [...names, "header", "submit"]);
  }

  function renderMilestone(pkg) {
    const view = localView(pkg);
    const kind = pkg.milestone.kind;
    const nav = [
      ["sample", "Sample"],
      ["checklist", "Checklist"],
      ["defects", "Defects"],
      ["measurements", "Measurements"],
      COUNTS_PRODUCTION.includes(kind) ? ["production", "Production"] : null,
      ["cartons", "Cartons"],
      kind === "CLI" ? ["loading", "Loading"] : null,
      ["photos", "Photos"],
      ["previous", "Previous"],
      ["submit", "Submit"],
    ].filter(Boolean);
    const order = [
      "header",
      "start",
      "sample",
      "checklist",
      "defects",
      "measurements",
      "production",
      "cartons",
      "loading",
      "photos",
      "previous",
      "submit",
    ];
    return h(
      "div",
      { class: "milestone-screen", dataset: { milestone: pkg.milestone.id } },
      h("p", { class: "crumbs small" }, h("a", { href: "#/" }, "‹ My inspections")),
      order.map((name) => SECTIONS[name](view)),
      h(
        "nav",
        { class: "section-nav", "aria-label": "Sections" },
        nav.map(([id, label]) => h("a", { href: `#/m/${pkg.milestone.id}`, dataset: { jump: id }, onclick: jump }, label)),
      ),
    );
  }

  function jump(event) {
    event.preventDefault();
    const target = document.getElementById(`sec-${event.currentTarget.dataset.jump}`);
    if (target) target.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  const SECTIONS = {
    header(view) {
      const { pkg, state } = view;
      const po = pkg.po;
      const outcome = (state.result && state.result.outcome) || "pending";
      const pendingHere = view.queued.size > 0;
      return h(
        "section",
        { class: "card field-section header-card", id: "sec-header" },
        h(
          "div",
          { class: "milestone-card-head" },
          h(
            "span",
            { class: "kind" },
            pkg.milestone.label === pkg.milestone.kind ? pkg.milestone.kind : `${pkg.milestone.kind} · ${pkg.milestone.label}`,
          ),
          badge(humanise(state.status), `status-${state.status}`),
        ),
        h("h1", {}, `PO ${po.number}`),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "Supplier"),
          h("dd", {}, po.supplier),
          h("dt", {}, "Factory"),
          h("dd", {}, [po.factory.name, po.factory.city].filter(Boolean).join(", ")),
          h("dt", {}, "Buyer"),
          h("dd", {}, po.buyer),
          h("dt", {}, "Order"),
          h("dd", {}, `${po.quantity} ${po.unit} in ${po.carton_count} cartons → ${po.destination_market}`),
          h("dt", {}, "Date"),
          h("dd", {}, pkg.milestone.inspection_date || "not set"),
          h("dt", {}, "Result"),
          h(
            "dd",
            {},
            h("span", { class: `badge result-${outcome}`, id: "result" }, outcome),
            h("span", { class: "small muted" }, pendingHere ? " as of the last sync" : " (server)"),
          ),
          h("dt", {}, "Missing"),
          h(
            "dd",
            { id: "missing-count" },
            view.missing.length
              ? `${view.missing.length} to record before submitting`
              : state.status === "in_progress"
                ? "nothing: ready to submit"
                : "nothing",
          ),
        ),
      );
    },

    start(view) {
      if (view.state.status !== "booked") return h("div", { id: "sec-start", hidden: true });
      return section(
        "start",
        "Start the inspection",
        h("p", {}, "Start when you are at the factory: findings are recorded while the inspection runs."),
        h(
          "button",
          {
            type: "button",
            class: "primary",
            id: "start-inspection",
            onclick: async () => {
              await record(view.pkg.milestone.id, "start", {});
              render();
            },
          },
          "Start inspection",
        ),
      );
    },

    sample(view) {
      const { pkg } = view;
      const sampling = pkg.milestone.sampling;
      const draw = pkg.milestone.sample_draw;
      if (!sampling && !draw) {
        return section("sample", "Sample", h("p", { class: "muted" }, "No sampling plan for this milestone."));
      }
      const rows = view.tally
        .filter((row) => row.limits)
        .map((row) =>
          h(
            "tr",
            {},
            h("td", {}, badge(row.name, `defect-${row.name}`), h("div", { class: "small muted" }, `AQL ${row.limits.aql}`)),
            h("td", { class: "num" }, row.limits.n),
            h("td", { class: "num nowrap" }, `${row.limits.ac} / ${row.limits.re}`),
            h("td", { class: "num" }, h("strong", {}, row.found)),
            h("td", {}, badge(row.decision, row.decision === "reject" ? "result-fail" : "result-pass")),
          ),
        );
      return section(
        "sample",
        "Sample",
        sampling
          ? h(
              "p",
              { class: "small muted" },
              `Lot ${pkg.milestone.lot_size}, level ${sampling.level}, ${sampling.severity}, code ${sampling.plan.table_code}: inspect ${sampling.plan.n} units.`,
            )
          : null,
        rows.length
          ? h(
              "div",
              { class: "table-wrap" },
              h(
                "table",
                { class: "compact" },
                h(
                  "thead",
                  {},
                  h(
                    "tr",
                    {},
                    ["Class", "n", "Ac / Re", "Found", ""].map((t) =>
                      h("th", { class: t && t !== "Class" ? "num" : "" }, t),
                    ),
                  ),
                ),
                h("tbody", {}, rows),
              ),
            )
          : null,
        draw
          ? h(
              "div",
              { class: "draw" },
              h("p", {}, "Draw ", h("strong", {}, draw.units_to_draw), " units from these cartons:"),
              h(
                "div",
                { class: "pills" },
                draw.draws.map((d) => h("span", { class: "pill" }, `#${d.carton} × ${d.units}`)),
              ),
            )
          : null,
      );
    },

    checklist(view) {
      const items = view.state.checklist;
      if (!view.pkg.checklist || !items.length) {
        return section("checklist", "Checklist", h("p", { class: "muted" }, "No checklist for this milestone."));
      }
      const groups = new Map();
      for (const item of items) {
        if (!groups.has(item.section)) groups.set(item.section, []);
        groups.get(item.section).push(item);
      }
      const answered = items.filter((i) => i.result).length;
      return section(
        "checklist",
        "Checklist",
        h("p", { class: "small muted" }, `${answered} of ${items.length} answered · version ${view.pkg.checklist.version}`),
        Array.from(groups, ([name, groupItems]) => [
          h("h3", { class: "group-title" }, humanise(name)),
          groupItems.map((item) => checkItem(view, item)),
        ]),
      );
    },

    defects(view) {
      const { pkg, state } = view;
      const rows = state.defects.map((defect) => defectRow(view, defect));
      return section(
        "defects",
        "Defects",
        h("div", { class: "defect-list" }, rows.length ? rows : h("p", { class: "muted" }, "No defects recorded.")),
        editable(view) ? defectForm(view) : null,
        pkg.defect_codes.length ? null : h("p", { class: "muted small" }, "No defect library for this product."),
      );
    },

    measurements(view) {
      return section("measurements", "Measurements", measurementsBody(view));
    },

    production(view) {
      if (!COUNTS_PRODUCTION.includes(view.pkg.milestone.kind)) return h("div", { id: "sec-production", hidden: true });
      return section("production", "Production counts", productionBody(view));
    },

    cartons(view) {
      return section("cartons", "Cartons", cartonsBody(view));
    },

    loading(view) {
      if (view.pkg.milestone.kind !== "CLI") return h("div", { id: "sec-loading", hidden: true });
      return section("loading", "Container and loading", loadingBody(view));
    },

    photos(view) {
      return section("photos", "Photos", photosBody(view));
    },

    previous(view) {
      const { pkg } = view;
      return section(
        "previous",
        "Previous findings and open CAPAs",
        pkg.previous.length
          ? pkg.previous.map((m) =>
              h(
                "div",
                { class: "previous" },
                h(
                  "p",
                  {},
                  h("strong", {}, m.label),
                  " ",
                  badge(humanise(m.status), `status-${m.status}`),
                  m.result ? [" ", badge(m.result, `result-${m.result}`)] : null,
                  h("span", { class: "small muted" }, m.inspection_date ? ` ${m.inspection_date}` : ""),
                ),
                m.defects.length
                  ? h(
                      "ul",
                      { class: "small" },
                      m.defects.map((d) =>
                        h("li", {}, badge(d.defect_class, `defect-${d.defect_class}`), ` ${d.quantity} × ${d.description}`),
                      ),
                    )
                  : h("p", { class: "small muted" }, "No defects found."),
              ),
            )
          : h("p", { class: "muted" }, "No earlier milestone of this PO has been inspected."),
        h("h3", {}, "Open CAPAs to verify"),
        capasOf(view).length
          ? capasOf(view).map((capa) => capaCard(view, capa))
          : h("p", { class: "muted small" }, "None open for this PO."),
      );
    },

    submit(view) {
      const { pkg, state } = view;
      const serverResult = state.result || {};
      const submitted = state.status === "submitted" || state.status === "published";
      const changesHere = view.queued.size;
      return section(
        "submit",
        "Result and submission",
        h(
          "p",
          {},
          "Result on the server: ",
          h("span", { class: `badge result-${serverResult.outcome || "pending"}` }, serverResult.outcome || "pending"),
          changesHere
            ? h("span", { class: "small muted" }, ` — at the last sync; ${changesHere} change${changesHere === 1 ? "" : "s"} on this phone are not in it yet.`)
            : null,
        ),
        changesHere ? localEstimate(view) : null,
        !changesHere && serverResult.reasons && serverResult.reasons.length
          ? h(
              "ul",
              { class: "small" },
              serverResult.reasons.map((r) => h("li", {}, r)),
            )
          : null,
        view.missing.length
          ? [
              h("p", {}, h("strong", {}, `Still to record (${view.missing.length}):`)),
              h(
                "ul",
                { class: "small missing-list" },
                view.missing.map((m) => h("li", {}, m)),
              ),
            ]
          : null,
        submitted
          ? h(
              "p",
              { class: "banner banner-ok", id: "submitted-note" },
              view.queued.has("submit")
                ? "Submitted on this phone: it reaches the QC lead with the next sync."
                : "Submitted to the QC lead.",
            )
          : h(
              "button",
              {
                type: "button",
                class: "primary",
                id: "submit-inspection",
                disabled: !editable(view) || view.missing.length > 0,
                onclick: async () => {
                  if (!confirm("Submit this inspection to the QC lead? Nothing more can be recorded after.")) return;
                  await record(pkg.milestone.id, "submit", {});
                  render();
                },
              },
              "Submit to the QC lead",
            ),
      );
    },
  };

  /* What the phone can tell before the server judges: defects per class against the plan and
   * the failed checks. The server's result (AQL plus the checklist rules) comes with the sync. */
  function localEstimate(view) {
    const lines = view.tally
      .filter((row) => row.limits)
      .map((row) =>
        h(
          "li",
          {},
          badge(row.name, `defect-${row.name}`),
          ` ${row.found} found, accept ≤ ${row.limits.ac}: `,
          h("strong", {}, row.decision === "reject" ? "over the limit" : "within the limit"),
        ),
      );
    const failed = view.state.checklist.filter((item) => item.result === "fail");
    if (failed.length) lines.push(h("li", {}, `${failed.length} check${failed.length === 1 ? "" : "s"} failed: ${failed.map((i) => i.code).join(", ")}`));
    return h("div", { class: "estimate" }, h("p", { class: "small muted" }, "On this phone:"), h("ul", { class: "small" }, lines));
  }

  // --- checklist -------------------------------------------------------------------------

  const RESULTS = [
    ["pass", "Pass"],
    ["fail", "Fail"],
    ["na", "N/A"],
  ];

  function checkItem(view, item) {
    const pkg = view.pkg;
    const disabled = !editable(view);
    const node = h(
      "div",
      { class: `field-check answer-${item.result || "none"}`, dataset: { item: item.code } },
      h(
        "div",
        { class: "check-text" },
        h("span", { class: "small muted" }, item.code),
        " ",
        item.text,
        item.mandatory ? null : [" ", badge("optional")],
        item.lab_test ? [" ", badge(`by lab test: ${item.lab_test}`)] : null,
        " ",
        queuedMark(view, `answer:${item.code}`),
        item.result === "fail" && !disabled ? [" ", photoButton(`item:${item.code}`, `Photo for ${item.code}`)] : null,
      ),
      h(
        "div",
        { class: "segmented", role: "radiogroup", "aria-label": item.code },
        RESULTS.map(([value, label]) =>
          h(
            "label",
            { class: `seg seg-${value}` },
            h("input", {
              type: "radio",
              name: `result-${item.code}`,
              value,
              checked: item.result === value,
              disabled,
            }),
            h("span", {}, label),
          ),
        ),
      ),
      h(
        "div",
        { class: `check-extra${item.answer === "number" ? "" : " note-only"}` },
        // A value is asked for where the checklist wants a number; any item takes a note.
        item.answer === "number"
          ? h("input", {
              type: "text",
              name: "value",
              value: item.value || "",
              inputmode: "decimal",
              placeholder: "Reading",
              "aria-label": `Reading for ${item.code}`,
              disabled,
            })
          : h("input", { type: "hidden", name: "value", value: item.value || "" }),
        h("input", {
          type: "text",
          name: "note",
          value: item.note || "",
          placeholder: item.result === "fail" ? "What is wrong?" : "Note",
          "aria-label": `Note for ${item.code}`,
          disabled,
        }),
      ),
    );
    node.addEventListener("change", () => answerChanged(pkg, node, item));
    return node;
  }

  const answerChanged = serial(async (pkg, node, item) => {
    const chosen = node.querySelector("input[type=radio]:checked");
    const value = node.querySelector("input[name=value]").value.trim();
    if (item.answer === "number" && value && !Number.isFinite(Number(value.replace(",", ".")))) {
      notify("warn", `${item.code}: "${value}" is not a number.`);
      return;
    }
    notify(null, null);
    await record(pkg.milestone.id, "answer", {
      item_code: item.code,
      result: chosen ? chosen.value : "",
      value,
      note: node.querySelector("input[name=note]").value.trim(),
    });
    // Only this item and the summaries change: the rest of the list (and a tap under way on
    // another item) stays as it is.
    const view = localView(pkg);
    const fresh = view.state.checklist.find((i) => i.code === item.code);
    const current = document.querySelector(`[data-item="${CSS.escape(item.code)}"]`);
    if (current) current.replaceWith(checkItem(view, fresh));
    refreshSections(pkg, ["header", "submit", "photos"]);
    const count = document.querySelector("#sec-checklist > p");
    if (count) {
      const answered = view.state.checklist.filter((i) => i.result).length;
      count.textContent = `${answered} of ${view.state.checklist.length} answered · version ${pkg.checklist.version}`;
    }
  });

  // --- defects ---------------------------------------------------------------------------

  function lineLabel(pkg, id) {
    const line = pkg.po.lines.find((l) => l.id === id);
    return line ? line.sku : "";
  }

  function defectRow(view, defect) {
    const { pkg } = view;
    const where = [
      defect.po_line ? lineLabel(pkg, defect.po_line) : "",
      defect.carton ? `carton ${defect.carton}` : "",
      defect.unit_ref ? `unit ${defect.unit_ref}` : "",
    ].filter(Boolean);
    const code = defect.code ? pkg.defect_codes.find((c) => c.id === defect.code) : null;
    return h(
      "div",
      { class: "defect-row", dataset: { defect: defect.uuid } },
      h("div", { class: "defect-class" }, badge(defect.defect_class, `defect-${defect.defect_class}`)),
      h(
        "div",
        { class: "defect-what" },
        h("div", {}, code ? h("span", { class: "small muted" }, `${code.code} `) : null, defect.description),
        h(
          "div",
          { class: "small muted" },
          `${defect.quantity} × `,
          where.join(" · ") || "anywhere in the sample",
          defect.systematic ? [" ", badge("systematic")] : null,
          defect.from_measurements ? [" ", badge("from measurements")] : null,
          " ",
          queuedMark(view, `defect:${defect.uuid}`),
        ),
      ),
      editable(view)
        ? h(
            "div",
            { class: "row-actions" },
            photoButton(`defect:${defect.uuid}`, `Photo of ${defect.description}`),
            defect.from_measurements
              ? null
              : h(
                  "button",
                  {
                    type: "button",
                    class: "danger small-button",
                    "aria-label": `Remove ${defect.description}`,
                    onclick: () => removeDefect(pkg, defect),
                  },
                  "Remove",
                ),
          )
        : null,
    );
  }

  // --- CAPAs to verify ---------------------------------------------------------------------

  /* The server's list (refreshed by each sync: a verification may have closed one). */
  function capasOf(view) {
    return view.state.capas || view.pkg.capas || [];
  }

  function capaCard(view, capa) {
    const verdict = capa.verified_here; // a queued one is laid over the server's (OVERLAY)
    const answer = capa.answer;
    return h(
      "div",
      { class: "capa", dataset: { capa: capa.id } },
      h(
        "p",
        {},
        h("strong", {}, capa.reference),
        " ",
        badge(capa.severity, `defect-${capa.severity}`),
        ` ${capa.title} `,
        h("span", { class: "small muted" }, `(opened at ${capa.opened_at}, ${humanise(capa.status)})`),
      ),
      answer
        ? h(
            "dl",
            { class: "facts small" },
            h("dt", {}, "Root cause"),
            h("dd", {}, answer.root_cause),
            h("dt", {}, "Correction"),
            h("dd", {}, answer.correction),
            h("dt", {}, "Prevention"),
            h("dd", {}, answer.prevention),
          )
        : h("p", { class: "small muted" }, "The supplier has not answered yet: check whether the finding is still there."),
      verdict
        ? h(
            "p",
            { class: `banner ${verdict.effective ? "banner-ok" : "banner-warn"} capa-verdict` },
            verdict.effective ? "Effective" : "Not effective",
            verdict.note ? `: ${verdict.note}` : "",
            verdict.queued ? " (on this phone: sent with the next sync)" : "",
          )
        : null,
      editable(view) && !(verdict && verdict.effective) ? capaForm(view, capa) : null,
    );
  }

  function capaForm(view, capa) {
    const { pkg } = view;
    const photos = [];
    const count = h("span", { class: "small muted" }, "");
    const input = h("input", { type: "file", accept: "image/*", capture: "environment", multiple: true, hidden: true });
    input.addEventListener("change", serial(async () => {
      for (const file of Array.from(input.files || [])) {
        photos.push(await keepPhoto(pkg, file, { caption: `${capa.reference} verification`, defect: null, item_code: "", reading: null, loading_step: "" }));
      }
      input.value = "";
      count.textContent = `${photos.length} photo${photos.length === 1 ? "" : "s"} kept for this verification`;
      await loadQueue();
      renderStatus();
      syncSoon();
    }));
    const form = h(
      "form",
      { class: "stack capa-form", autocomplete: "off" },
      h("label", { class: "check" }, h("input", { type: "radio", name: "effective", value: "yes", checked: true }), " Effective: the finding is gone"),
      h("label", { class: "check" }, h("input", { type: "radio", name: "effective", value: "no" }), " Not effective: it is still there"),
      field("What you saw", h("textarea", { name: "note", rows: 2 })),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: () => input.click() }, "Evidence photo"),
        count,
        input,
        h("button", { type: "submit", class: "primary" }, `Record ${capa.reference}`),
      ),
    );
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("submit", serial(async () => {
      const values = formValues(form);
      const effective = form.querySelector("input[name=effective]:checked").value === "yes";
      if (!effective && !values.note.trim()) return notify("warn", "Say what shows the action is not effective.");
      notify(null, null);
      await record(pkg.milestone.id, "capa_verify", {
        uuid: crypto.randomUUID(),
        capa: capa.id,
        effective,
        note: values.note.trim(),
        photos,
      });
      afterRecording(pkg, ["previous", "photos"]);
    }));
    return form;
  }

  /* "Photo" beside a finding: the photo form set to show it, and the camera opened (in the
   * same tap, which browsers require to open a file picker). */
  function photoButton(link, label) {
    return h(
      "button",
      {
        type: "button",
        class: "secondary small-button",
        "aria-label": label,
        dataset: { photoFor: link },
        onclick: () => {
          const select = document.getElementById("photo-link");
          const input = document.getElementById("photo-input");
          if (!select || !input) return;
          select.value = link;
          document.getElementById("sec-photos").scrollIntoView({ block: "start" });
          input.click();
        },
      },
      "Photo",
    );
  }

  const removeDefect = serial(async (pkg, defect) => {
    if (!confirm(`Remove the defect "${defect.description}"?`)) return;
    await record(pkg.milestone.id, "defect_delete", { uuid: defect.uuid });
    // Photos kept on the phone that show it stay, unlinked (the server does the same).
    for (const photo of myPhotos(pkg.milestone.id)) {
      if (photo.defect === defect.uuid && !photo.parts.some((p) => p.declared)) {
        photo.defect = null;
        await store.putPhoto(photo);
      }
    }
    await loadQueue();
    afterRecording(pkg, ["defects", "sample", "photos"]);
  });

  function defectForm(view) {
    const { pkg } = view;
    const codes = pkg.defect_codes;
    const plan = pkg.milestone.sampling && pkg.milestone.sampling.plan;
    const judged = plan ? new Set(["critical", ...plan.classes.map((c) => c.defect_class)]) : new Set(CLASSES);
    const list = h("select", { name: "code", size: 6, class: "code-list", "aria-label": "Defect code" });
    const search = h("input", {
      type: "search",
      name: "search",
      placeholder: "Search the defect library (name or code)",
      "aria-label": "Search defects",
      autocomplete: "off",
    });
    const classSelect = h(
      "select",
      { name: "defect_class", "aria-label": "Class" },
      CLASSES.filter((c) => judged.has(c)).map((c) => h("option", { value: c }, humanise(c))),
    );
    function fillCodes() {
      const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      const matches = codes.filter((c) => {
        const text = `${c.code} ${c.name} ${c.group} ${c.subgroup}`.toLowerCase();
        return words.every((w) => text.includes(w));
      });
      list.replaceChildren(
        ...matches.slice(0, 80).map((c) => h("option", { value: c.id }, `${c.name} · ${c.defect_class} · ${c.code}`)),
      );
    }
    search.addEventListener("input", fillCodes);
    list.addEventListener("change", () => {
      const code = codes.find((c) => c.id === Number(list.value));
      if (code && judged.has(code.defect_class)) classSelect.value = code.defect_class;
    });
    fillCodes();
    const form = h(
      "form",
      { class: "stack defect-form", id: "defect-form", autocomplete: "off" },
      h("h3", {}, "Add a defect"),
      search,
      list,
      h(
        "div",
        { class: "fields two" },
        field("Class", classSelect),
        field("Quantity", h("input", { type: "number", name: "quantity", min: 1, value: "1", inputmode: "numeric" })),
        field(
          "SKU",
          h(
            "select",
            { name: "po_line" },
            h("option", { value: "" }, "—"),
            pkg.po.lines.map((l) => h("option", { value: l.id }, `${l.sku} ${l.name}`)),
          ),
        ),
        field("Carton", h("input", { type: "number", name: "carton", min: 1, max: pkg.po.carton_count, inputmode: "numeric" })),
        field("Unit ref", h("input", { type: "text", name: "unit_ref", maxlength: 40 })),
        field("Description", h("input", { type: "text", name: "description", placeholder: "Default: the code's name" })),
      ),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "systematic" }), " Systematic (seen across the lot)"),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "add-defect" }, "Add defect")),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      addDefect(pkg, form);
    });
    return form;
  }

  function field(label, control) {
    return h("label", { class: "field" }, h("span", { class: "field-label" }, label), control);
  }

  const addDefect = serial(async (pkg, form) => {
    const values = formValues(form);
    const code = values.code ? Number(values.code) : null;
    const quantity = intOrNull(values.quantity);
    const carton = intOrNull(values.carton);
    const problems = [];
    if (!code && !values.description.trim()) problems.push("Choose a defect code or describe the defect.");
    if (!quantity || quantity < 1) problems.push("The quantity is a whole number, at least 1.");
    if (Number.isNaN(carton) || (carton !== null && (carton < 1 || carton > pkg.po.carton_count))) {
      problems.push(`Cartons are numbered 1 to ${pkg.po.carton_count}.`);
    }
    if (problems.length) {
      notify("warn", problems.join(" "));
      return;
    }
    notify(null, null);
    await record(pkg.milestone.id, "defect", {
      uuid: crypto.randomUUID(),
      code,
      description: values.description.trim(),
      defect_class: values.defect_class,
      quantity,
      po_line: values.po_line ? Number(values.po_line) : null,
      carton,
      unit_ref: values.unit_ref.trim(),
      systematic: values.systematic,
    });
    afterRecording(pkg, ["defects", "sample", "photos"]);
  });

  // --- measurements ----------------------------------------------------------------------

  function measurementsBody(view) {
    const { pkg, state } = view;
    if (!pkg.charts.length) return h("p", { class: "muted" }, "No measurement chart for these SKUs.");
    const chartName = (id) => {
      const chart = pkg.charts.find((c) => c.id === id);
      return chart ? `${chart.sku} ${chart.size}` : `chart ${id}`;
    };
    const several = pkg.charts.length > 1;
    const pointName = (r) => {
      const point = pointOf(pkg, r.chart, r.point_code);
      return point ? `${r.point_code} ${point.name}` : r.point_code;
    };
    const table = state.readings.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "compact" },
            h(
              "thead",
              {},
              h("tr", {}, [several ? "Chart" : null, "Unit", "Point", "Reading", ""].filter((t) => t !== null).map((t) => h("th", {}, t))),
            ),
            h(
              "tbody",
              {},
              state.readings.map((r) =>
                h(
                  "tr",
                  { class: r.in_tolerance ? "" : "out-of-tolerance", dataset: { reading: r.uuid } },
                  several ? h("td", {}, chartName(r.chart)) : null,
                  h("td", { class: "num" }, r.sample_unit),
                  h("td", {}, pointName(r)),
                  h("td", { class: "num nowrap" }, `${Number(r.value)} ${r.unit}`),
                  h(
                    "td",
                    {},
                    r.in_tolerance ? null : badge("out of tolerance", "status-cancelled"),
                    " ",
                    queuedMark(view, `reading:${r.chart}:${r.sample_unit}:${r.point_code}`),
                  ),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "muted small" }, "No readings yet.");
    return [table, editable(view) ? readingForm(view) : null];
  }

  function readingForm(view) {
    const { pkg } = view;
    const n = pkg.milestone.sampling ? pkg.milestone.sampling.plan.n : null;
    const chartSelect = h(
      "select",
      { name: "chart", "aria-label": "Chart" },
      pkg.charts.map((c) => h("option", { value: c.id }, `${c.sku} · ${c.size} · v${c.version}`)),
    );
    const pointSelect = h("select", { name: "point_code", "aria-label": "Point" });
    const unitLabel = h("span", { class: "unit-label" });
    function fillPoints() {
      const chart = pkg.charts.find((c) => c.id === Number(chartSelect.value));
      pointSelect.replaceChildren(
        ...(chart ? chart.points : []).map((p) =>
          h("option", { value: p.code }, `${p.code} ${p.name}: ${p.spec} −${p.minus}/+${p.plus} ${p.unit}`),
        ),
      );
      showUnit();
    }
    function showUnit() {
      const point = pointOf(pkg, Number(chartSelect.value), pointSelect.value);
      unitLabel.textContent = point ? point.unit : "";
    }
    chartSelect.addEventListener("change", fillPoints);
    pointSelect.addEventListener("change", showUnit);
    fillPoints();
    const form = h(
      "form",
      { class: "stack", id: "reading-form", autocomplete: "off" },
      h("h3", {}, "Add a reading"),
      h(
        "div",
        { class: "fields two" },
        field("Chart", chartSelect),
        field(
          n ? `Sample unit (1–${n})` : "Sample unit",
          h("input", { type: "number", name: "sample_unit", min: 1, max: n, inputmode: "numeric", required: true }),
        ),
        field("Point", pointSelect),
        field(
          "Value",
          h(
            "span",
            { class: "with-unit" },
            h("input", { type: "text", name: "value", inputmode: "decimal", required: true }),
            unitLabel,
          ),
        ),
      ),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary", id: "save-reading" }, "Save reading")),
    );
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("submit", serial(async () => {
      const values = formValues(form);
      const chart = Number(values.chart);
      const unit = intOrNull(values.sample_unit);
      const value = values.value.trim().replace(",", ".");
      const point = pointOf(pkg, chart, values.point_code);
      if (!unit || unit < 1 || (n && unit > n)) return notify("warn", `Sampled units are numbered 1 to ${n || "n"}.`);
      if (!point || value === "" || !Number.isFinite(Number(value))) return notify("warn", "Enter the reading as a number.");
      notify(null, null);
      const existing = localView(pkg).state.readings.find(
        (r) => r.chart === chart && r.sample_unit === unit && r.point_code === point.code,
      );
      await record(pkg.milestone.id, "reading", {
        uuid: existing ? existing.uuid : crypto.randomUUID(),
        chart,
        sample_unit: unit,
        point_code: point.code,
        value,
        unit: point.unit,
      });
      afterRecording(pkg, ["measurements", "photos"]);
      const fresh = document.querySelector("#reading-form input[name=sample_unit]");
      if (fresh) fresh.value = String(unit); // the next point is usually on the same unit
    }));
    return form;
  }

  // --- production ------------------------------------------------------------------------

  function productionBody(view) {
    const { pkg, state } = view;
    const now = state.production;
    const summary = now
      ? h(
          "p",
          {},
          `${now.produced} produced, ${now.finished} finished, ${now.packed} packed (counted ${now.counted_on}). `,
          queuedMark(view, "production"),
          (now.flags || []).map((flag) => h("span", { class: "errorlist block" }, flag)),
        )
      : h("p", { class: "muted" }, "Not counted yet.");
    if (!editable(view)) return summary;
    const value = (name, fallback = "") => (now && now[name] !== null && now[name] !== undefined ? now[name] : fallback);
    const form = h(
      "form",
      { class: "stack", id: "production-form", autocomplete: "off" },
      h(
        "div",
        { class: "fields two" },
        field("Counted on", h("input", { type: "date", name: "counted_on", value: value("counted_on", localDate()), required: true })),
        field("Produced", h("input", { type: "number", name: "produced", min: 0, value: value("produced"), inputmode: "numeric", required: true })),
        field("Finished", h("input", { type: "number", name: "finished", min: 0, value: value("finished", 0), inputmode: "numeric" })),
        field("Packed", h("input", { type: "number", name: "packed", min: 0, value: value("packed", 0), inputmode: "numeric" })),
        field(
          "Factory reports produced",
          h("input", { type: "number", name: "reported_produced", min: 0, value: value("reported_produced"), inputmode: "numeric" }),
        ),
      ),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "materials_on_site", checked: value("materials_on_site", true) }), " Materials all on site"),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "packaging_on_site", checked: value("packaging_on_site", true) }), " Packaging on site"),
      field("Observations", h("textarea", { name: "observations", rows: 2 }, value("observations"))),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary", id: "save-production" }, "Save production counts")),
    );
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("submit", serial(async () => {
      const v = formValues(form);
      const data = {
        counted_on: v.counted_on,
        produced: intOrNull(v.produced),
        finished: intOrNull(v.finished) ?? 0,
        packed: intOrNull(v.packed) ?? 0,
        reported_produced: intOrNull(v.reported_produced),
        materials_on_site: v.materials_on_site,
        packaging_on_site: v.packaging_on_site,
        observations: v.observations.trim(),
      };
      const counts = [data.produced, data.finished, data.packed, data.reported_produced];
      if (data.produced === null || counts.some((c) => Number.isNaN(c) || (c !== null && c < 0))) {
        return notify("warn", "Counts are whole numbers, 0 or more.");
      }
      if (data.finished > data.produced) return notify("warn", "More finished than produced: recount.");
      if (data.packed > data.finished) return notify("warn", "More packed than finished: recount.");
      notify(null, null);
      await record(pkg.milestone.id, "production", data);
      afterRecording(pkg, ["production"]);
    }));
    return [summary, form];
  }

  // --- cartons ---------------------------------------------------------------------------

  function cartonsBody(view) {
    const { pkg, state } = view;
    const list = state.cartons.length
      ? h(
          "ul",
          { class: "carton-list" },
          state.cartons.map((c) =>
            h(
              "li",
              { dataset: { carton: c.carton_number } },
              h("strong", {}, `Carton ${c.carton_number}`),
              c.barcode ? h("span", { class: "small muted" }, ` · ${c.barcode}`) : null,
              " ",
              queuedMark(view, `carton:${c.carton_number}`),
              c.problems && c.problems.length
                ? h("ul", { class: "errorlist" }, c.problems.map((p) => h("li", {}, p)))
                : view.queued.has(`carton:${c.carton_number}`)
                  ? h("span", { class: "small muted" }, " checked against the spec on sync")
                  : h("span", { class: "small ok" }, " as specified"),
            ),
          ),
        )
      : h("p", { class: "muted" }, "No carton checked yet.");
    if (!editable(view)) return list;
    const drawn = pkg.milestone.sample_draw ? pkg.milestone.sample_draw.cartons : [];
    const form = h(
      "form",
      { class: "stack", id: "carton-form", autocomplete: "off" },
      h("h3", {}, "Check a carton"),
      h(
        "div",
        { class: "fields two" },
        field(
          "Carton number",
          h("input", { type: "number", name: "carton_number", min: 1, max: pkg.po.carton_count, list: "drawn-cartons", inputmode: "numeric", required: true }),
        ),
        h("datalist", { id: "drawn-cartons" }, drawn.map((n) => h("option", { value: n }))),
        field("Length (cm)", h("input", { type: "text", name: "length_cm", inputmode: "decimal" })),
        field("Width (cm)", h("input", { type: "text", name: "width_cm", inputmode: "decimal" })),
        field("Height (cm)", h("input", { type: "text", name: "height_cm", inputmode: "decimal" })),
        field("Gross weight (kg)", h("input", { type: "text", name: "gross_weight_kg", inputmode: "decimal" })),
        field("Barcode", h("input", { type: "text", name: "barcode", inputmode: "numeric" })),
        field("Country of origin", h("input", { type: "text", name: "country_of_origin", maxlength: 2, placeholder: "e.g. CN" })),
        field("Label languages", h("input", { type: "text", name: "languages", placeholder: "e.g. en, fr" })),
        field("Marks: order number", h("input", { type: "text", name: "order_number" })),
        field("Marks: destination", h("input", { type: "text", name: "destination" })),
        field("Marks: carton n of N", h("input", { type: "text", name: "carton_of", placeholder: "e.g. 12 of 250" })),
      ),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary", id: "save-carton" }, "Save carton check")),
    );
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("submit", serial(async () => {
      const v = formValues(form);
      const number = intOrNull(v.carton_number);
      if (!number || number < 1 || number > pkg.po.carton_count) {
        return notify("warn", `Cartons are numbered 1 to ${pkg.po.carton_count}.`);
      }
      const sizes = ["length_cm", "width_cm", "height_cm", "gross_weight_kg"].map((k) => [k, decimalOrNull(v[k])]);
      if (sizes.some(([, x]) => Number.isNaN(x))) return notify("warn", "Sizes and weight are numbers.");
      const marks = {};
      for (const key of ["order_number", "destination", "carton_of"]) if (v[key].trim()) marks[key] = v[key].trim();
      notify(null, null);
      const existing = localView(pkg).state.cartons.find((c) => c.carton_number === number);
      await record(pkg.milestone.id, "carton", {
        uuid: existing && existing.uuid ? existing.uuid : crypto.randomUUID(),
        carton_number: number,
        ...Object.fromEntries(sizes),
        marks,
        barcode: v.barcode.trim(),
        country_of_origin: v.country_of_origin.trim().toUpperCase(),
        languages: v.languages.split(/[\s,;]+/).filter(Boolean),
      });
      afterRecording(pkg, ["cartons"]);
    }));
    return [list, form];
  }

  // --- loading (CLI) ---------------------------------------------------------------------

  function loadingBody(view) {
    const { pkg, state } = view;
    const now = state.loading;
    const summary = now
      ? h("p", {}, `Container ${now.container_number}, seal ${now.seal_number}. `, queuedMark(view, "loading"))
      : h("p", { class: "muted" }, "Container not recorded yet.");
    if (!editable(view)) return summary;
    const loaded = (now && now.loaded) || {};
    const form = h(
      "form",
      { class: "stack", id: "loading-form", autocomplete: "off" },
      h(
        "div",
        { class: "fields two" },
        field("Container number", h("input", { type: "text", name: "container_number", value: now ? now.container_number : "", placeholder: "e.g. MSCU1234565", required: true })),
        field("Seal number", h("input", { type: "text", name: "seal_number", value: now ? now.seal_number : "", required: true })),
        field("Load pattern", h("input", { type: "text", name: "load_pattern", value: now ? now.load_pattern : "" })),
      ),
      h("h3", {}, "Cartons loaded per SKU"),
      h(
        "div",
        { class: "fields two" },
        pkg.po.lines.map((line) =>
          field(
            `${line.sku} ${line.variant || ""}`.trim(),
            h("input", { type: "number", min: 0, name: `line-${line.id}`, value: loaded[line.id] ?? loaded[String(line.id)] ?? "", inputmode: "numeric" }),
          ),
        ),
      ),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary", id: "save-loading" }, "Save loading")),
    );
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("submit", serial(async () => {
      const v = formValues(form);
      if (!v.container_number.trim() || !v.seal_number.trim()) return notify("warn", "Enter the container and seal numbers.");
      const perLine = {};
      for (const line of pkg.po.lines) {
        const cartons = intOrNull(v[`line-${line.id}`]);
        if (Number.isNaN(cartons) || (cartons !== null && cartons < 0)) return notify("warn", "Cartons are whole numbers.");
        if (cartons !== null) perLine[line.id] = cartons;
      }
      notify(null, null);
      await record(pkg.milestone.id, "loading", {
        container_number: v.container_number.trim().toUpperCase(),
        seal_number: v.seal_number.trim(),
        load_pattern: v.load_pattern.trim(),
        loaded: perLine,
      });
      afterRecording(pkg, ["loading"]);
    }));
    return [summary, form];
  }

  // --- photos ----------------------------------------------------------------------------

  let thumbnailUrls = [];
  function revokeThumbnails() {
    for (const url of thumbnailUrls) URL.revokeObjectURL(url);
    thumbnailUrls = [];
  }

  function linkOptions(view) {
    const { state } = view;
    const options = [h("option", { value: "" }, "Not linked (general)")];
    if (state.defects.length) {
      options.push(
        h(
          "optgroup",
          { label: "Defect" },
          state.defects.filter((d) => d.uuid).map((d) => h("option", { value: `defect:${d.uuid}` }, `${d.defect_class}: ${d.quantity} × ${d.description}`)),
        ),
      );
    }
    if (state.checklist.length) {
      const failedFirst = [...state.checklist].sort((a, b) => (b.result === "fail") - (a.result === "fail"));
      options.push(
        h(
          "optgroup",
          { label: "Checklist item" },
          failedFirst.map((i) => h("option", { value: `item:${i.code}` }, `${i.code}${i.result ? ` (${i.result})` : ""}: ${i.text.slice(0, 60)}`)),
        ),
      );
    }
    if (state.readings.length) {
      options.push(
        h(
          "optgroup",
          { label: "Reading" },
          state.readings.filter((r) => r.uuid).map((r) => h("option", { value: `reading:${r.uuid}` }, `Unit ${r.sample_unit} ${r.point_code}: ${r.value} ${r.unit}`)),
        ),
      );
    }
    if (view.pkg.milestone.kind === "CLI") {
      options.push(h("optgroup", { label: "Loading step" }, LOADING_STEPS.map((s) => h("option", { value: `loading:${s}` }, s))));
    }
    return options;
  }

  function linkLabel(view, photo) {
    if (photo.defect) {
      const defect = view.state.defects.find((d) => d.uuid === photo.defect);
      return `Defect: ${defect ? defect.description : "removed"}`;
    }
    if (photo.item_code) return `Check ${photo.item_code}`;
    if (photo.reading) {
      const reading = view.state.readings.find((r) => r.uuid === photo.reading);
      return reading ? `Reading unit ${reading.sample_unit} ${reading.point_code}` : "Reading";
    }
    if (photo.loading_step) return `Loading: ${photo.loading_step}`;
    return "General";
  }

  function partStatus(photo) {
    const rejected = photo.parts.find((p) => p.status === "rejected");
    if (rejected) return { text: "Refused — see the queue", kind: "rejected" };
    if (photo.uploaded) return { text: "On the server", kind: "ok" };
    const waiting = photo.parts.find((p) => !p.done && p.waiting);
    if (waiting) return { text: waiting.waiting, kind: "queued" };
    const total = photo.parts.reduce((sum, p) => sum + p.size, 0);
    const sent = photo.parts.reduce((sum, p) => sum + (p.done ? p.size : p.received || 0), 0);
    if (sent) return { text: `Sending ${Math.floor((100 * sent) / total)} %`, kind: "queued" };
    return { text: `Waiting (${megabytes(total)})`, kind: "queued" };
  }

  /* A thumbnail from the server, fetched in the request lane and shown from a blob; offline or
   * on any failure the placeholder stays. */
  function remoteThumb(url, alt, placeholderText) {
    const placeholder = h("div", { class: "thumb placeholder" }, placeholderText);
    if (!url || !navigator.onLine) return placeholder;
    get(url)
      .then((response) => (response.ok ? response.blob() : null))
      .then((blob) => {
        if (!blob || !placeholder.isConnected) return;
        const src = URL.createObjectURL(blob);
        thumbnailUrls.push(src);
        placeholder.replaceWith(h("img", { class: "thumb", src, alt }));
      })
      .catch(() => undefined);
    return placeholder;
  }

  function localThumb(photo, remote) {
    if (!photo.thumb_key && remote && remote.thumbnail_url) {
      return remoteThumb(remote.thumbnail_url, photo.caption || photo.name, "on server");
    }
    const figure = h("div", { class: "thumb placeholder" }, photo.parts.some((p) => p.part === "photo") && !photo.thumb_key ? (photo.name.split(".").pop() || "photo").toUpperCase() : "…");
    if (photo.thumb_key) {
      store.getBlob(photo.thumb_key).then((blob) => {
        if (!blob) return;
        const url = URL.createObjectURL(blob);
        thumbnailUrls.push(url);
        figure.replaceWith(h("img", { class: "thumb", src: url, alt: photo.caption || photo.name }));
      });
    }
    return figure;
  }

  function photosBody(view) {
    const { pkg, state } = view;
    const milestoneId = pkg.milestone.id;
    const local = myPhotos(milestoneId);
    const localIds = new Set(local.map((p) => p.uuid));
    const remoteByUuid = new Map((state.photos || []).map((p) => [p.uuid, p]));
    const tiles = local.map((photo) => {
      const status = partStatus(photo);
      return h(
        "figure",
        { class: "photo field-photo", dataset: { photo: photo.uuid } },
        localThumb(photo, remoteByUuid.get(photo.uuid)),
        h(
          "figcaption",
          {},
          h("span", { class: "small" }, photo.caption || photo.name),
          h("span", { class: "small muted" }, linkLabel(view, photo)),
          h("span", { class: `tag tag-${status.kind}` }, status.text),
        ),
      );
    });
    for (const remote of state.photos || []) {
      if (localIds.has(remote.uuid)) continue;
      const image = remoteThumb(
        remote.thumbnail_url,
        remote.caption || "photo",
        remote.status === "ready" ? "on server" : remote.status,
      );
      tiles.push(
        h(
          "figure",
          { class: `photo field-photo${remote.flags && remote.flags.length ? " flagged" : ""}`, dataset: { photo: remote.uuid } },
          image,
          h(
            "figcaption",
            {},
            h("span", { class: "small" }, remote.caption || "—"),
            h("span", { class: "small muted" }, linkLabel(view, remote)),
            remote.flags && remote.flags.length ? h("span", { class: "flag" }, `${remote.flags.length} flag(s)`) : null,
          ),
        ),
      );
    }
    return [
      tiles.length ? h("div", { class: "gallery field-gallery" }, tiles) : h("p", { class: "muted" }, "No photos yet."),
      editable(view) ? photoForm(view) : null,
    ];
  }

  function photoForm(view) {
    const { pkg } = view;
    const input = h("input", {
      type: "file",
      name: "files",
      id: "photo-input",
      accept: "image/*",
      capture: "environment",
      multiple: true,
      "aria-label": "Take or choose photos",
    });
    const form = h(
      "form",
      { class: "stack photo-form", id: "photo-form" },
      h("h3", {}, "Add photos"),
      field("Shows", h("select", { name: "link", id: "photo-link" }, linkOptions(view))),
      field("Caption", h("input", { type: "text", name: "caption", id: "photo-caption", maxlength: 200 })),
      h("label", { class: "button camera-button" }, "Take or choose photos", input),
      h("p", { class: "small muted", id: "photo-progress", "aria-live": "polite" }),
      h(
        "p",
        { class: "small muted" },
        app.settings.originals_only
          ? "Originals only (setting on): each photo is sent whole."
          : "A 1600 px copy goes first; the original follows.",
      ),
    );
    input.addEventListener("change", () => addPhotos(pkg, form, input));
    return form;
  }

  const addPhotos = serial(async (pkg, form, input) => {
    const files = Array.from(input.files || []);
    if (!files.length) return;
    const values = formValues(form);
    const [linkKind, ...rest] = (values.link || "").split(":");
    const linkValue = rest.join(":");
    const progress = $("#photo-progress", form);
    input.disabled = true;
    let index = 0;
    for (const file of files) {
      index += 1;
      progress.textContent = `Keeping photo ${index} of ${files.length} on the phone…`;
      await keepPhoto(pkg, file, {
        caption: values.caption.trim(),
        defect: linkKind === "defect" ? linkValue : null,
        item_code: linkKind === "item" ? linkValue : "",
        reading: linkKind === "reading" ? linkValue : null,
        loading_step: linkKind === "loading" ? linkValue : "",
      });
    }
    progress.textContent = "";
    await loadQueue();
    renderStatus();
    refreshSections(pkg, ["photos"]);
    askForBackgroundSync();
    syncSoon();
  });

  /* One picture: its files and their hashes into IndexedDB, in one transaction. */
  async function keepPhoto(pkg, file, links) {
    const uuid = crypto.randomUUID();
    const prepared = await photoKit.prepare(file, { originalsOnly: app.settings.originals_only });
    const part = (name, item) => ({
      part: name,
      blob_key: `${uuid}:${name}`,
      size: item.size,
      sha256: item.sha256,
      name: item.name,
      upload_id: null,
      declared: false,
      received: 0,
      done: false,
      status: "pending",
      waiting: null,
    });
    const parts = prepared.rendition
      ? [part("rendition", prepared.rendition), part("original", prepared.original)]
      : [part("photo", prepared.original)];
    const blobs = {};
    for (const p of parts) blobs[p.blob_key] = p.part === "rendition" ? prepared.rendition.blob : prepared.original.blob;
    let thumbKey = null;
    if (prepared.thumb) {
      thumbKey = `${uuid}:thumb`;
      blobs[thumbKey] = prepared.thumb;
    }
    await store.addPhoto(
      {
        uuid,
        milestone: pkg.milestone.id,
        user: app.user.id,
        created_at: new Date().toISOString(),
        name: prepared.original.name,
        caption: links.caption,
        defect: links.defect,
        item_code: links.item_code,
        reading: links.reading,
        loading_step: links.loading_step,
        thumb_key: thumbKey,
        uploaded: false,
        parts,
      },
      blobs,
    );    return uuid;
  }

  // --- screen: the queue -----------------------------------------------------------------

  const KIND_LABELS = {
    start: "Start the inspection",
    submit: "Submit to the QC lead",
    answer: "Checklist answer",
    defect: "Defect",
    defect_delete: "Remove defect",
    reading: "Measurement",
    production: "Production counts",
    carton: "Carton check",
    loading: "Container and loading",
    capa_verify: "CAPA verification",
  };

  function describeOp(op) {
    const d = op.data;
    switch (op.kind) {
      case "answer":
        return `${d.item_code}: ${d.result || "no answer"}${d.value ? `, ${d.value}` : ""}${d.note ? ` (${d.note})` : ""}`;
      case "defect":
        return `${d.quantity} × ${d.description || describeCode(op)} (${d.defect_class})`;
      case "reading":
        return `unit ${d.sample_unit} ${d.point_code}: ${d.value} ${d.unit}`;
      case "production":
        return `${d.produced} produced, ${d.finished} finished, ${d.packed} packed on ${d.counted_on}`;
      case "carton":
        return `carton ${d.carton_number}`;
      case "loading":
        return `container ${d.container_number}, seal ${d.seal_number}`;
      case "capa_verify":
        return `${capaReference(op)}: ${d.effective ? "effective" : "not effective"}${d.note ? ` (${d.note})` : ""}`;
      default:
        return "";
    }
  }

  function capaReference(op) {
    const pkg = app.packages.get(op.milestone);
    const capa = pkg && (pkg.state.capas || pkg.capas || []).find((c) => c.id === op.data.capa);
    return capa ? capa.reference : `CAPA ${op.data.capa}`;
  }

  function describeCode(op) {
    const pkg = app.packages.get(op.milestone);
    const code = pkg && pkg.defect_codes.find((c) => c.id === op.data.code);
    return code ? code.name : "defect";
  }

  function milestoneName(id) {
    const pkg = app.packages.get(id);
    return pkg ? `${pkg.milestone.label} · PO ${pkg.po.number}` : `milestone ${id}`;
  }

  const HIDDEN_FIELDS = new Set(["uuid", "id", "item_code", "carton_number", "chart", "sample_unit", "point_code"]);

  function shown(value) {
    if (value === null || value === undefined || value === "") return "—";
    if (typeof value === "boolean") return value ? "yes" : "no";
    if (typeof value === "object") {
      const entries = Object.entries(value);
      return entries.length ? entries.map(([k, v]) => `${humanise(k)}: ${v}`).join(", ") : "—";
    }
    return String(value);
  }

  /* Their version beside mine, field by field, the differences marked. */
  function compareTable(theirs, mine) {
    const names = [];
    for (const name of [...Object.keys(theirs || {}), ...Object.keys(mine || {})]) {
      if (!HIDDEN_FIELDS.has(name) && !names.includes(name)) names.push(name);
    }
    const rows = names.map((name) => {
      const a = shown((theirs || {})[name]);
      const b = shown((mine || {})[name]);
      return h(
        "tr",
        { class: a === b ? "" : "differs" },
        h("th", { scope: "row" }, humanise(name)),
        h("td", { class: "theirs" }, theirs ? a : "(removed)"),
        h("td", { class: "mine" }, b),
      );
    });
    return h(
      "div",
      { class: "table-wrap versions" },
      h(
        "table",
        { class: "compact compare" },
        h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "Their version"), h("th", {}, "Mine"))),
        h("tbody", {}, rows),
      ),
    );
  }

  function errorList(errors) {
    return h(
      "ul",
      { class: "errorlist" },
      Object.entries(errors || {}).flatMap(([name, messages]) =>
        (messages || []).map((m) => h("li", {}, name === "__all__" ? m : `${humanise(name)}: ${m}`)),
      ),
    );
  }

  async function keepMine(op) {
    op.force = true;
    op.status = "pending";
    op.theirs = null;
    await store.putOp(op);
    await loadQueue();
    render();
    return syncNow();
  }

  async function takeTheirs(op) {
    await store.deleteOp(op.id);
    await loadQueue();
    render();
  }

  async function retryOp(op) {
    op.status = "pending";
    op.errors = null;
    await store.putOp(op);
    await loadQueue();
    render();
    return syncNow();
  }

  async function discardOp(op) {
    if (!confirm(`Discard "${KIND_LABELS[op.kind]} ${describeOp(op)}"? It will not reach the server.`)) return;
    await store.deleteOp(op.id);
    await loadQueue();
    render();
  }

  async function retryPhoto(photo) {
    for (const part of photo.parts) {
      if (part.status === "rejected") {
        part.status = "pending";
        part.errors = null;
      }
    }
    await store.putPhoto(photo);
    await loadQueue();
    render();
    return syncNow();
  }

  async function discardPhoto(photo) {
    if (!confirm(`Discard the photo "${photo.caption || photo.name}"? It will not reach the server.`)) return;
    await store.deletePhoto(photo);
    await loadQueue();
    render();
  }

  function opCard(op) {
    const title = h(
      "div",
      { class: "queue-title" },
      h("strong", {}, KIND_LABELS[op.kind] || op.kind),
      " ",
      h("span", {}, describeOp(op)),
      h("div", { class: "small muted" }, `${milestoneName(op.milestone)} · recorded ${when(op.created_at)}`),
    );
    if (op.status === "conflict") {
      const theirs = op.theirs || {};
      return h(
        "article",
        { class: "queue-item conflict", dataset: { op: op.id, status: op.status } },
        title,
        h("p", { class: "small" }, `${theirs.by || "Someone"} changed this on the server${theirs.at ? ` at ${when(theirs.at)}` : ""} after you downloaded it.`),
        compareTable(theirs.value, op.data),
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", class: "primary", dataset: { action: "keep-mine" }, onclick: () => keepMine(op) }, "Keep mine"),
          h("button", { type: "button", class: "secondary", dataset: { action: "take-theirs" }, onclick: () => takeTheirs(op) }, "Take theirs"),
        ),
      );
    }
    if (op.status === "rejected") {
      return h(
        "article",
        { class: "queue-item rejected", dataset: { op: op.id, status: op.status } },
        title,
        h("p", { class: "small" }, "The server refused it:"),
        errorList(op.errors),
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", class: "secondary", dataset: { action: "retry" }, onclick: () => retryOp(op) }, "Retry"),
          h("button", { type: "button", class: "danger", dataset: { action: "discard" }, onclick: () => discardOp(op) }, "Discard"),
        ),
      );
    }
    return h(
      "li",
      { class: "queue-item pending", dataset: { op: op.id, status: op.status } },
      h("span", { class: "queue-what" }, h("strong", {}, KIND_LABELS[op.kind] || op.kind), " ", describeOp(op)),
      h("span", { class: "small muted nowrap" }, op.force ? "keep mine · " : "", when(op.created_at)),
    );
  }

  function photoCard(photo) {
    const status = partStatus(photo);
    const rejected = photo.parts.filter((p) => p.status === "rejected");
    return h(
      "article",
      { class: `queue-item ${rejected.length ? "rejected" : "photo-waiting"}`, dataset: { photo: photo.uuid } },
      h(
        "div",
        { class: "queue-photo" },
        localThumb(photo),
        h(
          "div",
          {},
          h("strong", {}, photo.caption || photo.name),
          h("div", { class: "small muted" }, `${milestoneName(photo.milestone)} · ${photo.parts.map((p) => `${p.part} ${megabytes(p.size)}${p.done ? " ✓" : ""}`).join(", ")}`),
          h("span", { class: `tag tag-${status.kind}` }, status.text),
        ),
      ),
      rejected.length ? rejected.map((p) => errorList(p.errors)) : null,
      rejected.length
        ? h(
            "div",
            { class: "actions" },
            h("button", { type: "button", class: "secondary", dataset: { action: "retry" }, onclick: () => retryPhoto(photo) }, "Retry"),
            h("button", { type: "button", class: "danger", dataset: { action: "discard" }, onclick: () => discardPhoto(photo) }, "Discard"),
          )
        : null,
    );
  }

  function groupByMilestone(ops) {
    const groups = new Map();
    for (const op of ops) {
      if (!groups.has(op.milestone)) groups.set(op.milestone, []);
      groups.get(op.milestone).push(op);
    }
    return Array.from(groups);
  }

  function renderQueue() {
    const ops = myOps();
    const order = { conflict: 0, rejected: 1, pending: 2 };
    const sorted = [...ops].sort((a, b) => order[a.status] - order[b.status] || a.seq - b.seq);
    const decisions = sorted.filter((op) => op.status !== "pending");
    const waiting = sorted.filter((op) => op.status === "pending");
    const photos = myPhotos().filter((p) => !p.uploaded);
    const counts = app.counts || {};
    const settings = h(
      "section",
      { class: "card" },
      h("h2", {}, "Sending photos"),
      h(
        "label",
        { class: "check" },
        h("input", {
          type: "checkbox",
          id: "originals-only",
          checked: app.settings.originals_only,
          onchange: serial(async (event) => {
            app.settings.originals_only = event.target.checked;
            await store.setMeta("settings", app.settings);
          }),
        }),
        " Send originals only (on Wi-Fi)",
      ),
      h("p", { class: "small muted" }, "Off: a 1600 px copy of each large photo goes first, so findings reach the QC lead quickly on mobile data; the original follows. On: photos taken from now on go whole, once."),
      h("p", { class: "small muted" }, `Sent from this phone so far: ${megabytes(counts.bytes_sent || 0)}. Device ${app.device ? app.device.slice(0, 8) : ""}.`),
    );
    return h(
      "div",
      { class: "queue-screen" },
      h("p", { class: "crumbs small" }, h("a", { href: "#/" }, "‹ My inspections")),
      h("h1", { class: "screen-title" }, "Waiting to be sent"),
      h("p", { class: "muted" }, waitingText(counts)),
      h(
        "section",
        { class: "card", id: "queue-records" },
        h("h2", {}, `Records (${ops.length})`),
        decisions.length ? decisions.map(opCard) : null,
        waiting.length
          ? [
              decisions.length ? h("h3", {}, "Waiting to be sent") : null,
              groupByMilestone(waiting).map(([milestone, group]) => [
                h("p", { class: "small muted queue-group" }, milestoneName(milestone)),
                h("ul", { class: "queue-list" }, group.map(opCard)),
              ]),
            ]
          : null,
        ops.length ? null : h("p", { class: "muted" }, "None: every record is on the server."),
      ),
      h(
        "section",
        { class: "card", id: "queue-photos" },
        h("h2", {}, `Photos (${photos.length})`),
        photos.length ? photos.map(photoCard) : h("p", { class: "muted" }, "None: every photo is on the server."),
      ),
      settings,
    );
  }

  // --- start -----------------------------------------------------------------------------

  async function signOut(event) {
    event.preventDefault();
    const form = event.currentTarget;
    try {
      const response = await get("/api/field/session");
      if (!response.ok) throw new Error("signed out already");
      const session = await response.json();
      form.elements.csrfmiddlewaretoken.value = session.csrf_token;
      HTMLFormElement.prototype.submit.call(form);
    } catch (error) {
      notify("warn", navigator.onLine ? "You are signed out already." : "Signing out needs a connection. What you recorded stays on this phone either way.");
    }
  }

  /* Resolves when the worker is active (the shell is kept for offline starts), or after a few
   * seconds if it is slow or missing: the app works without it, only not from a cold start
   * offline. */
  function registerServiceWorker() {
    if (!("serviceWorker" in navigator)) return Promise.resolve();
    const body = document.body.dataset;
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === SYNC_TAG) syncNow();
    });
    const ready = navigator.serviceWorker
      .register(body.serviceWorker, { scope: body.scope })
      .then(() => navigator.serviceWorker.ready)
      .then(() => {
        document.documentElement.dataset.offlineReady = "true";
      })
      .catch((error) => {
        console.warn("qcloop field: no service worker, so no offline start", error);
      });
    return Promise.race([ready, new Promise((resolve) => setTimeout(resolve, 5000))]);
  }

  async function boot() {
    app.device = await store.deviceId();
    app.settings = await store.getMeta("settings", app.settings);
    await checkSession();
    // The worker keeps the shell first (its install fetches the page); the app's own requests
    // wait behind it in the lane.
    const worker = registerServiceWorker();
    lane(() => worker);
    if (app.user) app.milestones = await store.getMeta(`milestones:${app.user.id}`, null);
    await loadPackages();
    await loadQueue();
    render();
    // Ask the browser not to evict what is kept here (the queue is the only copy).
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => undefined);
    $("#sync-now").addEventListener("click", () => syncNow());
    $("#sign-out-form").addEventListener("submit", signOut);
    window.addEventListener("hashchange", () => {
      notify(null, null);
      window.scrollTo(0, 0);
      render();
    });
    window.addEventListener("online", () => {
      renderStatus();
      refreshMilestones();
      syncNow();
    });
    window.addEventListener("offline", () => render());
    await worker;
    document.documentElement.dataset.ready = "true";
    if (navigator.onLine && !app.signedOut && app.user) {
      refreshMilestones();
      syncNow();
    }
  }

  /* For tests and the benchmark. */
  window.qcloopField = {
    syncNow,
    /* Resolves once every action made so far is kept on the phone. */
    idle: () => actions,
    stats() {
      const counts = app.counts || {};
      return {
        pending_ops: counts.pending_ops || 0,
        pending_photos: counts.pending_photos || 0,
        pending_bytes: counts.pending_bytes || 0,
        conflicts: counts.conflicts || 0,
        rejected: counts.rejected || 0,
        bytes_sent: counts.bytes_sent || 0,
        last_sync: counts.last_sync || null,
      };
    },
  };

  boot().catch((error) => {
    console.error("qcloop field failed to start", error);
    $("#view").replaceChildren(h("p", { class: "card errorlist" }, "The app could not start: ", String(error)));
  });
})();
