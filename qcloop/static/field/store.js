/* qcloop field: what the phone keeps, in IndexedDB.
 *
 * A classic script (no modules) so that the page and the service worker both load it; it
 * defines `self.qcloopStore`. Stores:
 *   packages  one downloaded milestone per user: {key: "user:milestone", user, milestone, package}
 *   ops       what the inspector recorded, in order (seq), until the server acknowledges it
 *   photos    one record per picture (its parts and where each upload got to)
 *   blobs     the photo files themselves, apart, so listing photos never loads megabytes
 *   meta      the device id, the last signed-in user, the last sync, settings, counters
 *
 * Every user action is written here first; the network comes after (sync.js). */
(function (global) {
  "use strict";

  const DB_NAME = "qcloop-field";
  const DB_VERSION = 1;
  let database = null;

  function open() {
    if (database) return database;
    database = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => createStores(request.result);
      request.onsuccess = () => {
        const db = request.result;
        // Another tab or the worker upgrading the schema: let it, and reopen next time.
        db.onversionchange = () => {
          db.close();
          database = null;
        };
        resolve(db);
      };
      request.onerror = () => {
        database = null;
        reject(request.error);
      };
    });
    return database;
  }

  function createStores(db) {
    db.createObjectStore("packages", { keyPath: "key" });
    const ops = db.createObjectStore("ops", { keyPath: "id" });
    ops.createIndex("seq", "seq");
    const photos = db.createObjectStore("photos", { keyPath: "uuid" });
    photos.createIndex("created_at", "created_at");
    db.createObjectStore("blobs", { keyPath: "key" });
    db.createObjectStore("meta", { keyPath: "key" });
  }

  function done(request) {
    return new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  /* Run `work(stores)` in one transaction; resolves with its result once committed, so a
   * caller never acts on a write that might still be rolled back. */
  async function transaction(names, mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(names, mode);
      const stores = {};
      for (const name of names) stores[name] = tx.objectStore(name);
      let result;
      tx.oncomplete = () => resolve(result);
      tx.onabort = () => reject(tx.error || new Error("IndexedDB transaction aborted"));
      tx.onerror = () => reject(tx.error);
      Promise.resolve()
        .then(() => work(stores))
        .then(
          (value) => {
            result = value;
          },
          (error) => {
            try {
              tx.abort();
            } catch (ignored) {
              // already finished
            }
            reject(error);
          },
        );
    });
  }

  // --- meta ------------------------------------------------------------------------------

  async function getMeta(key, fallback = null) {
    const row = await transaction(["meta"], "readonly", (s) => done(s.meta.get(key)));
    return row ? row.value : fallback;
  }

  function setMeta(key, value) {
    return transaction(["meta"], "readwrite", (s) => done(s.meta.put({ key, value })));
  }

  /* This phone's id: sent with every sync so the server can tell its own earlier changes
   * (never a conflict) from someone else's. */
  async function deviceId() {
    return transaction(["meta"], "readwrite", async (s) => {
      const row = await done(s.meta.get("device"));
      if (row) return row.value;
      const id = crypto.randomUUID();
      await done(s.meta.put({ key: "device", value: id }));
      return id;
    });
  }

  async function addBytesSent(bytes) {
    return transaction(["meta"], "readwrite", async (s) => {
      const row = await done(s.meta.get("bytes_sent"));
      const total = (row ? row.value : 0) + bytes;
      await done(s.meta.put({ key: "bytes_sent", value: total }));
      return total;
    });
  }

  // --- packages --------------------------------------------------------------------------

  function packageKey(user, milestone) {
    return `${user}:${milestone}`;
  }

  function savePackage(user, pkg) {
    const record = { key: packageKey(user, pkg.milestone.id), user, milestone: pkg.milestone.id, package: pkg };
    return transaction(["packages"], "readwrite", (s) => done(s.packages.put(record)));
  }

  async function getPackage(user, milestone) {
    const row = await transaction(["packages"], "readonly", (s) =>
      done(s.packages.get(packageKey(user, milestone))),
    );
    return row ? row.package : null;
  }

  async function listPackages(user) {
    const rows = await transaction(["packages"], "readonly", (s) => done(s.packages.getAll()));
    return rows.filter((row) => row.user === user).map((row) => row.package);
  }

  /* After a sync: the server's state and revision replace ours (new ops use the new revision). */
  function updateState(user, milestone, state, revision) {
    return transaction(["packages"], "readwrite", async (s) => {
      const row = await done(s.packages.get(packageKey(user, milestone)));
      if (!row) return null;
      row.package.state = state;
      row.package.revision = revision;
      row.package.milestone.status = state.status;
      await done(s.packages.put(row));
      return row.package;
    });
  }

  function deletePackage(user, milestone) {
    return transaction(["packages"], "readwrite", (s) =>
      done(s.packages.delete(packageKey(user, milestone))),
    );
  }

  // --- operations ------------------------------------------------------------------------

  /* Queue one operation. An earlier unacknowledged operation on the same record (same key) is
   * superseded: the newer one carries the inspector's latest intent, made after they saw the
   * earlier one's conflict or refusal. A superseded op that did reach the server (its answer was
   * lost) is harmless: the newer one, from this same device, applies over it. */
  function addOp(op) {
    return transaction(["ops", "meta"], "readwrite", async (s) => {
      const counter = await done(s.meta.get("op_seq"));
      op.seq = (counter ? counter.value : 0) + 1;
      await done(s.meta.put({ key: "op_seq", value: op.seq }));
      if (op.key) {
        const all = await done(s.ops.getAll());
        for (const earlier of all) {
          if (earlier.key === op.key && earlier.milestone === op.milestone && earlier.user === op.user) {
            await done(s.ops.delete(earlier.id));
          }
        }
      }
      await done(s.ops.add(op));
      return op;
    });
  }

  async function listOps() {
    return transaction(["ops"], "readonly", (s) => done(s.ops.index("seq").getAll()));
  }

  function putOp(op) {
    return transaction(["ops"], "readwrite", (s) => done(s.ops.put(op)));
  }

  function deleteOp(id) {
    return transaction(["ops"], "readwrite", (s) => done(s.ops.delete(id)));
  }

  // --- photos ----------------------------------------------------------------------------

  /* A new picture and its files, in one transaction: either all of it is kept or none. */
  function addPhoto(photo, blobs) {
    return transaction(["photos", "blobs"], "readwrite", async (s) => {
      for (const [key, blob] of Object.entries(blobs)) await done(s.blobs.put({ key, blob }));
      await done(s.photos.add(photo));
      return photo;
    });
  }

  function listPhotos() {
    return transaction(["photos"], "readonly", (s) => done(s.photos.index("created_at").getAll()));
  }

  async function getPhoto(uuid) {
    return transaction(["photos"], "readonly", (s) => done(s.photos.get(uuid)));
  }

  function putPhoto(photo) {
    return transaction(["photos"], "readwrite", (s) => done(s.photos.put(photo)));
  }

  async function getBlob(key) {
    const row = await transaction(["blobs"], "readonly", (s) => done(s.blobs.get(key)));
    return row ? row.blob : null;
  }

  function deleteBlob(key) {
    return transaction(["blobs"], "readwrite", (s) => done(s.blobs.delete(key)));
  }

  function deletePhoto(photo) {
    return transaction(["photos", "blobs"], "readwrite", async (s) => {
      for (const part of photo.parts) await done(s.blobs.delete(part.blob_key));
      if (photo.thumb_key) await done(s.blobs.delete(photo.thumb_key));
      await done(s.photos.delete(photo.uuid));
    });
  }

  global.qcloopStore = {
    open,
    getMeta,
    setMeta,
    deviceId,
    addBytesSent,
    savePackage,
    getPackage,
    listPackages,
    updateState,
    deletePackage,
    addOp,
    listOps,
    putOp,
    deleteOp,
    addPhoto,
    listPhotos,
    getPhoto,
    putPhoto,
    getBlob,
    deleteBlob,
    deletePhoto,
  };
})(self);
