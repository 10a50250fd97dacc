// The upload widget of the curator pages (template: web/templates/upload/_widget.html).
//
// A file goes to the portal's tus endpoint (/uploads/) through tus-js-client: in chunks, each PATCH appending
// at the offset the server confirmed, so a dropped connection, a paused upload or even a reloaded page resumes
// where the bytes stopped instead of starting again. "From a URL" posts the URL; the pipeline downloads it.
// Either way the new dataset gets a status line that status.js keeps up to date until processing ends.
import { Upload } from "tus-js-client";
import { watchStatus } from "./status.js";

const MiB = 1024 * 1024;
// Waits between automatic retries after a failed request (network down, server restarting): about two
// minutes in all before the widget gives up and offers "Resume".
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000];

export function mountUploadWidget(root) {
  const $ = (selector) => root.querySelector(selector);
  const settings = {
    collectionVersionId: root.dataset.collectionVersionId,
    replaceDatasetId: root.dataset.replaceDatasetId || "",
    csrfToken: root.dataset.csrfToken || "",
    endpoint: root.dataset.endpoint || "/uploads/",
    urlEndpoint: root.dataset.urlEndpoint || "/portal/api/uploads/from-url",
    chunkSize: Number(root.dataset.chunkSize) || 16 * MiB,
  };
  const ui = {
    input: $(".cp-file"),
    drop: $(".cp-drop"),
    transfer: $(".cp-transfer"),
    name: $(".cp-file-name"),
    bar: $(".cp-bar"),
    bytes: $(".cp-bytes"),
    rate: $(".cp-rate"),
    percent: $(".cp-percent"),
    pause: $(".cp-pause"),
    resume: $(".cp-resume"),
    cancel: $(".cp-cancel"),
    note: $(".cp-note"),
    error: $(".cp-error"),
    urlForm: $(".cp-url-form"),
    submitted: $(".cp-submitted"),
  };
  let current = null; // the Upload in progress
  const rate = rateMeter();

  function showError(message) {
    ui.error.textContent = message;
    ui.error.hidden = !message;
  }

  function setPaused(paused) {
    ui.pause.hidden = paused;
    ui.resume.hidden = !paused;
  }

  function start(file) {
    showError("");
    if (current) {
      showError("An upload is already running: wait for it, or cancel it first.");
      return;
    }
    if (!file.name.toLowerCase().endsWith(".h5ad")) {
      showError(`${file.name} is not an AnnData file: only .h5ad files can be uploaded.`);
      return;
    }
    if (file.size === 0) {
      showError(`${file.name} is empty (0 bytes).`);
      return;
    }
    ui.transfer.hidden = false;
    ui.name.textContent = file.name;
    ui.note.textContent = "";
    rate.reset();
    showProgress(0, file.size);
    setPaused(false);
    const metadata = { filename: file.name, collection_version_id: settings.collectionVersionId };
    if (settings.replaceDatasetId) metadata.replace_dataset_id = settings.replaceDatasetId;
    const upload = new Upload(file, {
      endpoint: settings.endpoint,
      chunkSize: settings.chunkSize,
      retryDelays: RETRY_DELAYS,
      metadata,
      headers: settings.csrfToken ? { "X-CSRF-Token": settings.csrfToken } : {},
      // Resume an interrupted upload of this same file into this same place after a page reload too.
      fingerprint: async (f) =>
        ["cellportal", settings.collectionVersionId, settings.replaceDatasetId, f.name, f.size, f.lastModified].join(
          ":",
        ),
      removeFingerprintOnSuccess: true,
      onProgress: (sent, total) => showProgress(sent, total),
      onShouldRetry: (error, attempt) => {
        const status = error.originalResponse ? error.originalResponse.getStatus() : 0;
        const retry = status === 0 || status >= 500 || status === 409 || status === 423;
        if (retry) ui.note.textContent = `Connection lost; retrying (attempt ${attempt + 1})…`;
        return retry;
      },
      onChunkComplete: () => {
        ui.note.textContent = "";
      },
      onSuccess: ({ lastResponse }) => {
        const versionId = lastResponse.getHeader("Upload-Dataset-Version-Id");
        finish();
        ui.note.textContent = "Upload complete: the file is being validated and converted.";
        showProgress(file.size, file.size);
        if (versionId) addSubmitted(file.name, versionId);
      },
      onError: (error) => {
        finish();
        showError(describe(error));
      },
    });
    current = upload;
    upload.findPreviousUploads().then((previous) => {
      if (previous.length > 0) {
        upload.resumeFromPreviousUpload(previous[0]);
        ui.note.textContent = "Resuming an earlier upload of this file…";
      }
      upload.start();
    });
  }

  function finish() {
    current = null;
    ui.pause.hidden = true;
    ui.resume.hidden = true;
    ui.rate.textContent = "";
  }

  function showProgress(sent, total) {
    const percent = total > 0 ? Math.floor((sent / total) * 100) : 0;
    ui.bar.value = percent;
    ui.percent.textContent = `${percent} %`;
    ui.bytes.textContent = `${formatBytes(sent)} of ${formatBytes(total)}`;
    const bytesPerSecond = rate.sample(sent);
    ui.rate.textContent = bytesPerSecond > 0 ? `${formatBytes(bytesPerSecond)}/s` : "";
  }

  function addSubmitted(name, versionId) {
    const item = document.createElement("li");
    item.dataset.datasetVersionId = versionId;
    item.dataset.cpLive = "1";
    item.innerHTML = `<span class="cp-submitted-name"></span>
      <span class="status"><span class="badge busy">PENDING</span> <span class="step muted"></span></span>
      <progress class="progress" max="1" value="0"></progress>`;
    item.querySelector(".cp-submitted-name").textContent = name;
    ui.submitted.appendChild(item);
    watchStatus(item);
  }

  ui.input.addEventListener("change", () => {
    if (ui.input.files.length > 0) start(ui.input.files[0]);
    ui.input.value = "";
  });
  ui.drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    ui.drop.classList.add("cp-dragging");
  });
  ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("cp-dragging"));
  ui.drop.addEventListener("drop", (event) => {
    event.preventDefault();
    ui.drop.classList.remove("cp-dragging");
    const files = event.dataTransfer ? event.dataTransfer.files : [];
    if (files.length > 1) showError("Drop one file at a time.");
    else if (files.length === 1) start(files[0]);
  });
  ui.pause.addEventListener("click", () => {
    if (!current) return;
    current.abort(); // keeps the upload on the server: "Resume" continues from its offset
    setPaused(true);
    ui.note.textContent = "Paused.";
    ui.rate.textContent = "";
  });
  ui.resume.addEventListener("click", () => {
    if (!current) return;
    setPaused(false);
    ui.note.textContent = "";
    rate.reset();
    current.start();
  });
  ui.cancel.addEventListener("click", () => {
    if (!current) return;
    const upload = current;
    finish();
    upload.abort(true).catch(() => {}); // true: DELETE it on the server too
    ui.transfer.hidden = true;
    ui.note.textContent = "";
  });
  ui.urlForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    const url = ui.urlForm.elements.url.value.trim();
    const button = ui.urlForm.querySelector("button");
    button.disabled = true;
    try {
      const response = await fetch(settings.urlEndpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": settings.csrfToken },
        body: JSON.stringify({
          collection_version_id: settings.collectionVersionId,
          url,
          replace_dataset_id: settings.replaceDatasetId || null,
        }),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        showError(body.detail || `The URL was refused (HTTP ${response.status}).`);
        return;
      }
      ui.urlForm.reset();
      addSubmitted(url, body.dataset_version_id);
    } catch (error) {
      showError(`Could not reach the portal: ${error.message}`);
    } finally {
      button.disabled = false;
    }
  });
}

// The server's own sentence when it gave one (problem+json "detail"), else tus-js-client's message.
function describe(error) {
  const response = error.originalResponse;
  if (response) {
    try {
      const body = JSON.parse(response.getBody());
      if (body && body.detail) return `Upload failed: ${body.detail}`;
    } catch {
      // not JSON: fall through
    }
    return `Upload failed (HTTP ${response.getStatus()}). Choose the file again to resume it.`;
  }
  return `Upload stopped: ${error.message}. Choose the file again to resume where it stopped.`;
}

// Bytes per second over the last few seconds (a whole-upload average would hide a stall).
function rateMeter(windowMs = 5000) {
  let samples = [];
  return {
    reset() {
      samples = [];
    },
    sample(bytes) {
      const now = performance.now();
      samples.push([now, bytes]);
      while (samples.length > 2 && now - samples[0][0] > windowMs) samples.shift();
      const [t0, b0] = samples[0];
      return now - t0 > 250 ? ((bytes - b0) * 1000) / (now - t0) : 0;
    },
  };
}

export function formatBytes(n) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
