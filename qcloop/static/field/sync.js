/* qcloop field: the sync engine. Sends what the phone recorded (the ops queue, then the photos)
 * and takes the server's answer for each item. A classic script used by the page and by the
 * service worker (importScripts); it needs store.js and defines `self.qcloopSync`.
 *
 * Rules it keeps (see docs/field.md):
 * - an item leaves the phone only when the server acknowledges it: an op when its ack is
 *   applied or duplicate, a photo file when the server's SHA-256 equals the phone's;
 * - ops go in the order they were made, in batches; records before photos, renditions before
 *   originals, and a photo only once the defect or reading it shows is on the server;
 * - an upload that broke resumes where the server's copy ends, never from zero;
 * - only the signed-in user's items are sent; another inspector's wait for them;
 * - page and worker never sync at once (a Web Lock). */
(function (global) {
  "use strict";

  const store = global.qcloopStore;
  const BATCH_SIZE = 50;
  const LOCK_NAME = "qcloop-sync";
  const MAX_WRONG_OFFSETS = 5; // 409s in a row on one file before we give up for this run

  /* Why a sync run stopped early: `network` (no connection or it broke), `server` (a 5xx:
   * try again later), `signed_out` (401/403 on the session: keep everything, ask to sign in). */
  class SyncStop extends Error {
    constructor(reason, message) {
      super(message);
      this.reason = reason;
    }
  }

  const encoder = new TextEncoder();

  async function request(method, url, { json, body, csrf } = {}) {
    const headers = { Accept: "application/json" };
    let payload;
    let size = 0;
    if (json !== undefined) {
      payload = JSON.stringify(json);
      headers["Content-Type"] = "application/json";
      size = encoder.encode(payload).length;
    } else if (body !== undefined) {
      payload = body;
      headers["Content-Type"] = "application/octet-stream";
      size = body.size;
    }
    if (csrf) headers["X-CSRFToken"] = csrf;
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: payload,
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch (error) {
      throw new SyncStop("network", "No connection to the server.");
    }
    if (size) await store.addBytesSent(size);
    let data = null;
    try {
      data = await response.json();
    } catch (notJson) {
      data = null;
    }
    return { status: response.status, data };
  }

  function stopOnTransient(response) {
    if (response.status === 401) throw new SyncStop("signed_out", "Signed out.");
    if (response.status >= 500 || response.status === 0) {
      throw new SyncStop("server", `The server answered ${response.status}; trying again later.`);
    }
  }

  /* {user, csrf_token, chunk_bytes}: fresh at every run, since a cached page's CSRF token may be
   * stale. 401/403 here means the session has ended. */
  async function openSession() {
    const response = await request("GET", "/api/field/session");
    if (response.status === 401 || response.status === 403) {
      throw new SyncStop("signed_out", "Sign in again to send what is waiting.");
    }
    stopOnTransient(response);
    if (response.status !== 200) throw new SyncStop("server", `Session: ${response.status}`);
    await store.setMeta("last_user", response.data.user);
    return response.data;
  }

  // --- the ops queue ---------------------------------------------------------------------

  function wire(op) {
    return {
      id: op.id,
      kind: op.kind,
      base_revision: op.base_revision,
      force: !!op.force,
      data: op.data,
    };
  }

  /* ninja's 422: {detail: [{loc: ["body", "payload", field...], msg}]} -> {field: [msg]} */
  function fieldErrors(data) {
    const errors = {};
    const detail = data && data.detail;
    if (!Array.isArray(detail)) {
      errors.__all__ = [typeof detail === "string" ? detail : "Refused by the server."];
      return errors;
    }
    for (const problem of detail) {
      const loc = (problem.loc || []).filter((part) => part !== "body" && part !== "payload");
      const field = loc.join(".") || "__all__";
      (errors[field] = errors[field] || []).push(problem.msg);
    }
    return errors;
  }

  async function markRejected(ops, errors) {
    for (const op of ops) {
      op.status = "rejected";
      op.errors = errors;
      await store.putOp(op);
    }
  }

  async function applyAcks(batch, acks, summary) {
    const byId = new Map(batch.map((op) => [op.id, op]));
    for (const ack of acks) {
      const op = byId.get(ack.id);
      if (!op) continue;
      if (ack.status === "applied" || ack.status === "duplicate") {
        await store.deleteOp(op.id);
      } else if (ack.status === "conflict") {
        op.status = "conflict";
        op.theirs = ack.theirs;
        op.force = false;
        await store.putOp(op);
      } else {
        op.status = "rejected";
        op.errors = ack.errors || {};
        await store.putOp(op);
      }
      summary[ack.status] = (summary[ack.status] || 0) + 1;
    }
  }

  async function syncMilestone(context, milestone, ops, summary) {
    for (let start = 0; start < ops.length; start += BATCH_SIZE) {
      const batch = ops.slice(start, start + BATCH_SIZE);
      const response = await request("POST", `/api/field/milestones/${milestone}/sync`, {
        json: { device: context.device, ops: batch.map(wire) },
        csrf: context.csrf,
      });
      stopOnTransient(response);
      if (response.status === 404 || response.status === 403) {
        // No longer this user's to inspect (reassigned, cancelled): keep, show why.
        await markRejected(ops.slice(start), {
          milestone: ["This milestone is no longer open to you on the server."],
        });
        summary.rejected = (summary.rejected || 0) + ops.length - start;
        return;
      }
      if (response.status !== 200) {
        await markRejected(batch, fieldErrors(response.data));
        summary.rejected = (summary.rejected || 0) + batch.length;
        continue;
      }
      await applyAcks(batch, response.data.acks, summary);
      await store.updateState(context.user.id, milestone, response.data.state, response.data.revision);
      summary.milestones.add(milestone);
    }
  }

  async function syncOps(context, summary) {
    const waiting = (await store.listOps()).filter(
      (op) => op.user === context.user.id && op.status === "pending",
    );
    const byMilestone = new Map();
    for (const op of waiting) {
      if (!byMilestone.has(op.milestone)) byMilestone.set(op.milestone, []);
      byMilestone.get(op.milestone).push(op);
    }
    for (const [milestone, ops] of byMilestone) {
      await syncMilestone(context, milestone, ops, summary);
    }
  }

  // --- photos ----------------------------------------------------------------------------

  /* The record a photo shows must be on the server first: while its op is still queued (or in
   * conflict, or refused) the photo waits. */
  function waitingFor(photo, ops) {
    const pending = (kind, uuid) =>
      uuid && ops.some((op) => op.milestone === photo.milestone && op.kind === kind && op.data.uuid === uuid);
    if (pending("defect", photo.defect)) return "its defect";
    if (pending("reading", photo.reading)) return "its reading";
    return null;
  }

  function declaration(photo, part) {
    return {
      id: part.upload_id,
      milestone: photo.milestone,
      photo: photo.uuid,
      part: part.part,
      size: part.size,
      sha256: part.sha256,
      name: part.name || photo.name || "",
      caption: photo.caption || "",
      defect: photo.defect || null,
      item_code: photo.item_code || "",
      reading: photo.reading || null,
      loading_step: photo.loading_step || "",
    };
  }

  function namesALink(errors) {
    return Object.keys(errors).some((field) => field === "defect" || field === "reading");
  }

  async function rejectPart(photo, part, errors) {
    part.status = "rejected";
    part.errors = errors;
    await store.putPhoto(photo);
  }

  /* The server has every byte: check its hash against ours before letting the file go. */
  async function finishPart(photo, part, answer, summary) {
    if (answer.sha256 !== part.sha256) {
      await rejectPart(photo, part, {
        sha256: [`The server's copy hashes to ${String(answer.sha256).slice(0, 12)}…, not ours.`],
      });
      return;
    }
    part.done = true;
    part.received = part.size;
    part.waiting = null;
    await store.putPhoto(photo);
    await store.deleteBlob(part.blob_key);
    if (photo.parts.every((p) => p.done)) {
      photo.uploaded = true;
      await store.putPhoto(photo);
    }
    summary.uploaded += 1;
  }

  /* Where to start sending: the server's count for an upload it knows, else declare it. */
  async function resumeOrDeclare(context, photo, part) {
    if (part.declared) {
      const response = await request("GET", `/api/field/uploads/${part.upload_id}`);
      stopOnTransient(response);
      if (response.status === 200) return response.data;
      part.declared = false; // the server does not know it (any more): declare again
    }
    const response = await request("POST", "/api/field/uploads", {
      json: declaration(photo, part),
      csrf: context.csrf,
    });
    stopOnTransient(response);
    if (response.status === 200 || response.status === 201) {
      part.declared = true;
      part.waiting = null;
      await store.putPhoto(photo);
      return response.data;
    }
    const errors = fieldErrors(response.data);
    if (response.status === 422 && namesALink(errors)) {
      part.waiting = Object.values(errors)[0][0];
      await store.putPhoto(photo);
      return null;
    }
    await rejectPart(photo, part, errors);
    return null;
  }

  async function uploadPart(context, photo, part, summary) {
    if (!part.upload_id) {
      part.upload_id = crypto.randomUUID();
      await store.putPhoto(photo);
    }
    let answer = await resumeOrDeclare(context, photo, part);
    if (!answer) return;
    const blob = await store.getBlob(part.blob_key);
    if (!blob) {
      await rejectPart(photo, part, { file: ["The file is no longer on this phone."] });
      return;
    }
    let wrongOffsets = 0;
    while (!answer.done) {
      const offset = answer.received;
      const end = Math.min(offset + context.chunkBytes, part.size);
      const response = await request("PUT", `/api/field/uploads/${part.upload_id}?offset=${offset}`, {
        body: blob.slice(offset, end),
        csrf: context.csrf,
      });
      stopOnTransient(response);
      if (response.status === 409) {
        // The server has a different count (an answer was lost): go on from there.
        if (++wrongOffsets > MAX_WRONG_OFFSETS) throw new SyncStop("server", "Upload offsets disagree.");
        answer = { received: response.data.received, done: false };
        continue;
      }
      if (response.status === 422) {
        // The bytes did not hash right and the server dropped them: start this file again.
        const errors = fieldErrors(response.data);
        if (errors.sha256 && ++wrongOffsets <= 1) {
          answer = { received: 0, done: false };
          continue;
        }
        await rejectPart(photo, part, errors);
        return;
      }
      if (response.status !== 200) {
        await rejectPart(photo, part, fieldErrors(response.data));
        return;
      }
      wrongOffsets = 0;
      answer = response.data;
      part.received = answer.received;
      await store.putPhoto(photo);
      if (context.onProgress) context.onProgress();
    }
    await finishPart(photo, part, answer, summary);
  }

  async function syncPhotos(context, summary) {
    const ops = (await store.listOps()).filter((op) => op.user === context.user.id);
    const photos = (await store.listPhotos()).filter(
      (photo) => photo.user === context.user.id && !photo.uploaded,
    );
    // Renditions (and lone originals) first: quick, and enough to see the finding; then the
    // originals, the heavy evidence.
    for (const phase of [["rendition", "photo"], ["original"]]) {
      for (const photo of photos) {
        const reason = waitingFor(photo, ops);
        for (const part of photo.parts) {
          if (!phase.includes(part.part) || part.done || part.status === "rejected") continue;
          if (reason) {
            if (part.waiting !== `Waits for ${reason}.`) {
              part.waiting = `Waits for ${reason}.`;
              await store.putPhoto(photo);
            }
            continue;
          }
          const rendition = photo.parts.find((p) => p.part === "rendition");
          if (part.part === "original" && rendition && !rendition.done) continue;
          await uploadPart(context, photo, part, summary);
        }
      }
    }
  }

  // --- one run ---------------------------------------------------------------------------

  async function counts(userId) {
    const ops = await store.listOps();
    const photos = await store.listPhotos();
    const mine = (item) => userId == null || item.user === userId;
    const waitingPhotos = photos.filter((photo) => !photo.uploaded && mine(photo));
    let bytes = 0;
    for (const photo of waitingPhotos) {
      for (const part of photo.parts) if (!part.done) bytes += part.size - (part.received || 0);
    }
    return {
      pending_ops: ops.filter(mine).length,
      conflicts: ops.filter((op) => mine(op) && op.status === "conflict").length,
      rejected:
        ops.filter((op) => mine(op) && op.status === "rejected").length +
        waitingPhotos.filter((photo) => photo.parts.some((p) => p.status === "rejected")).length,
      sendable_ops: ops.filter((op) => mine(op) && op.status === "pending").length,
      pending_photos: waitingPhotos.length,
      pending_bytes: bytes,
      others_ops: ops.filter((op) => !mine(op)).length,
      others_photos: photos.filter((photo) => !photo.uploaded && !mine(photo)).length,
      bytes_sent: await store.getMeta("bytes_sent", 0),
      last_sync: await store.getMeta("last_sync", null),
    };
  }

  async function runUnlocked(options) {
    const summary = {
      ok: false,
      reason: null,
      message: "",
      user: null,
      applied: 0,
      duplicate: 0,
      conflict: 0,
      rejected: 0,
      uploaded: 0,
      milestones: new Set(),
    };
    try {
      const session = await openSession();
      summary.user = session.user;
      const context = {
        user: session.user,
        csrf: session.csrf_token,
        chunkBytes: session.chunk_bytes,
        device: await store.deviceId(),
        onProgress: options && options.onProgress,
      };
      await syncOps(context, summary);
      await syncPhotos(context, summary);
      summary.ok = true;
      await store.setMeta("last_sync", new Date().toISOString());
    } catch (error) {
      if (!(error instanceof SyncStop)) throw error;
      summary.reason = error.reason;
      summary.message = error.message;
    }
    summary.milestones = Array.from(summary.milestones);
    Object.assign(summary, await counts(summary.user ? summary.user.id : null));
    return summary;
  }

  /* One sync run; with a Web Lock so the page and the service worker never sync at once. */
  function run(options) {
    if (global.navigator && navigator.locks) {
      return navigator.locks.request(LOCK_NAME, () => runUnlocked(options));
    }
    return runUnlocked(options);
  }

  global.qcloopSync = { run, counts, SyncStop };
})(self);
