/* qcloop field: a picture from the camera, made ready to keep and to send.
 *
 * The original is evidence and is kept whole, with its SHA-256. When the browser can decode the
 * picture and it is larger than a phone screen needs, a rendition is made here (longest side
 * 1600 px, JPEG) so the finding reaches the QC lead quickly on a weak signal; the original
 * follows. The rendition carries the original's EXIF (capture time, GPS, camera), with the
 * orientation reset to 1 because its pixels are already turned upright. A picture the browser
 * cannot decode (an iPhone HEIC in Chromium) goes as it is. Defines `self.qcloopPhotos`. */
(function (global) {
  "use strict";

  const RENDITION_SIDE = 1600;
  const RENDITION_QUALITY = 0.85;
  const THUMB_SIDE = 360;
  const THUMB_QUALITY = 0.7;
  // Below these a rendition saves little: the original goes alone.
  const SMALL_SIDE = RENDITION_SIDE;
  const SMALL_BYTES = 1.5 * 1024 * 1024;
  // EXIF sits in the first segments of a JPEG; never read further than this looking for it.
  const HEADER_BYTES = 1024 * 1024;
  const ORIENTATION_TAG = 0x0112;

  async function sha256Hex(blob) {
    const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
    return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  /* The picture upright (EXIF orientation applied), or null when the browser cannot read it. */
  async function decode(file) {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (error) {
      return null;
    }
  }

  async function encodeJpeg(bitmap, longestSide, quality) {
    const scale = Math.min(1, longestSide / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext("2d");
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = "high";
    context.drawImage(bitmap, 0, 0, width, height);
    return canvas.convertToBlob({ type: "image/jpeg", quality });
  }

  // --- EXIF ------------------------------------------------------------------------------

  /* The EXIF APP1 segment (marker to end) of a JPEG, or null. */
  function findExifSegment(bytes) {
    if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
    let at = 2;
    while (at + 4 <= bytes.length) {
      if (bytes[at] !== 0xff) return null;
      const marker = bytes[at + 1];
      if (marker === 0xff) {
        at += 1; // fill byte
        continue;
      }
      if (marker === 0xda || marker === 0xd9) return null; // image data: no metadata after
      if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        at += 2;
        continue;
      }
      const length = (bytes[at + 2] << 8) | bytes[at + 3];
      const isExif =
        marker === 0xe1 &&
        length >= 8 &&
        String.fromCharCode(...bytes.subarray(at + 4, at + 10)) === "Exif\0\0";
      if (isExif) {
        if (at + 2 + length > bytes.length) return null;
        return bytes.slice(at, at + 2 + length);
      }
      at += 2 + length;
    }
    return null;
  }

  /* Set the Orientation tag of IFD0 to 1 (upright), in place. */
  function resetOrientation(segment) {
    const tiff = 10; // FF E1, length (2), "Exif\0\0"
    const view = new DataView(segment.buffer, segment.byteOffset, segment.byteLength);
    if (segment.length < tiff + 8) return segment;
    const order = view.getUint16(tiff);
    if (order !== 0x4949 && order !== 0x4d4d) return segment;
    const little = order === 0x4949;
    const ifd0 = tiff + view.getUint32(tiff + 4, little);
    if (ifd0 + 2 > segment.length) return segment;
    const entries = view.getUint16(ifd0, little);
    for (let index = 0; index < entries; index++) {
      const entry = ifd0 + 2 + index * 12;
      if (entry + 12 > segment.length) break;
      if (view.getUint16(entry, little) !== ORIENTATION_TAG) continue;
      const type = view.getUint16(entry + 2, little);
      if (type === 3) view.setUint16(entry + 8, 1, little); // SHORT, the usual
      else if (type === 4) view.setUint32(entry + 8, 1, little);
    }
    return segment;
  }

  /* The rendition with the original's EXIF right after its start-of-image marker (where EXIF
   * readers look), in place of the JFIF header the canvas wrote. */
  function spliceExif(jpegBytes, segment) {
    let rest = 2;
    if (jpegBytes[2] === 0xff && jpegBytes[3] === 0xe0) {
      rest = 4 + ((jpegBytes[4] << 8) | jpegBytes[5]);
    }
    return new Blob([jpegBytes.subarray(0, 2), segment, jpegBytes.subarray(rest)], {
      type: "image/jpeg",
    });
  }

  async function makeRendition(file, bitmap) {
    const encoded = await encodeJpeg(bitmap, RENDITION_SIDE, RENDITION_QUALITY);
    const header = new Uint8Array(await file.slice(0, HEADER_BYTES).arrayBuffer());
    const exif = findExifSegment(header);
    if (!exif) return encoded;
    return spliceExif(new Uint8Array(await encoded.arrayBuffer()), resetOrientation(exif));
  }

  function worthARendition(file, bitmap) {
    return Math.max(bitmap.width, bitmap.height) > SMALL_SIDE || file.size > SMALL_BYTES;
  }

  /* {original, rendition|null, thumb|null}; each file as {blob, size, sha256, type, name}. */
  async function prepare(file, { originalsOnly = false } = {}) {
    const original = {
      blob: file,
      size: file.size,
      sha256: await sha256Hex(file),
      type: file.type || "application/octet-stream",
      name: file.name || "photo",
    };
    const bitmap = await decode(file);
    if (!bitmap) return { original, rendition: null, thumb: null };
    try {
      const thumb = await encodeJpeg(bitmap, THUMB_SIDE, THUMB_QUALITY);
      let rendition = null;
      if (!originalsOnly && worthARendition(file, bitmap)) {
        const blob = await makeRendition(file, bitmap);
        rendition = {
          blob,
          size: blob.size,
          sha256: await sha256Hex(blob),
          type: "image/jpeg",
          name: original.name.replace(/\.[^.]*$/, "") + "-1600.jpg",
        };
      }
      return { original, rendition, thumb };
    } finally {
      bitmap.close();
    }
  }

  global.qcloopPhotos = { prepare, sha256Hex, findExifSegment, resetOrientation };
})(self);
