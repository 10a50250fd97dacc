// Live processing status of dataset rows: any element with data-dataset-version-id and a .status child
// (the curator's dataset table, the upload widget's list) is polled at
// /portal/api/dataset-versions/<id>/status until the server says it is finished. Rows the page rendered as
// finished keep their wording; rows marked data-cp-live (the widget's) always show the server's status.
const POLL_MS = 2000;
const TONES = { SUCCESS: "ok", PENDING: "busy", VALIDATION_FAILURE: "bad", PIPELINE_FAILURE: "bad" };
const STEPS = { upload: "storing the file", validate: "validating", label: "labelling", convert: "converting" };

export function watchStatus(row) {
  if (row.dataset.cpWatching) return;
  row.dataset.cpWatching = "1";
  const versionId = row.dataset.datasetVersionId;
  let wasRunning = false;
  const poll = async () => {
    let status;
    try {
      const response = await fetch(`/portal/api/dataset-versions/${encodeURIComponent(versionId)}/status`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.status === 404) return; // removed, or no longer visible: stop
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      status = await response.json();
    } catch {
      setTimeout(poll, POLL_MS * 3); // the portal is restarting or the network dropped: try again later
      return;
    }
    // A row that was finished when the page was made already says so in the page's own words: leave it.
    if (wasRunning || !status.finished || row.dataset.cpLive) render(row, status);
    if (status.finished) {
      row.dataset.cpFinished = status.processing_status;
      if (wasRunning) offerReload(row);
      return;
    }
    wasRunning = true;
    setTimeout(poll, POLL_MS);
  };
  poll();
}

// The outcome is known as soon as the dataset's status leaves PENDING: the pipeline records it (with its
// errors) in one write, then ends its job a moment later, and only then does the server say `finished`.
// A poll that lands in between must not pair the final badge with the job's last step ("validating 5 %")
// or a still-visible progress bar; polling goes on until `finished` all the same.
function outcomeKnown(status) {
  return status.finished || status.processing_status !== "PENDING";
}

export function render(row, status) {
  const cell = row.querySelector(".status");
  if (!cell) return;
  let badge = cell.querySelector(".badge");
  if (!badge) {
    badge = document.createElement("span");
    cell.prepend(badge);
  }
  badge.textContent = status.processing_status;
  badge.className = `badge ${TONES[status.processing_status] || "idle"}`;
  let step = cell.querySelector(".step");
  if (!step) {
    step = document.createElement("span");
    step.className = "step muted";
    cell.appendChild(step);
  }
  step.textContent = describeStep(status);
  const progress = row.querySelector(".progress");
  if (progress) {
    const job = status.job;
    progress.max = 1;
    progress.value = outcomeKnown(status) ? 1 : job ? job.progress : 0;
    progress.hidden = outcomeKnown(status);
  }
  row.dataset.errorCount = String(status.error_count);
}

function describeStep(status) {
  if (outcomeKnown(status)) {
    if (status.error_count > 0) {
      return `${status.error_count} error${status.error_count === 1 ? "" : "s"}`;
    }
    const failed = status.artifacts.filter((a) => a.status === "FAILED").map((a) => a.type);
    return failed.length ? `conversion failed: ${failed.join(", ")}` : "";
  }
  const job = status.job;
  if (!job || job.state === "QUEUED") return "waiting for a worker";
  const step = STEPS[job.step] || job.step || "";
  if (job.step === "upload" && status.source_uri) return "downloading the file";
  return `${step} ${Math.round(job.progress * 100)} %`;
}

function offerReload(row) {
  const cell = row.querySelector(".status");
  if (!cell || cell.querySelector(".cp-reload")) return;
  const link = document.createElement("a");
  link.href = window.location.href;
  link.className = "cp-reload";
  link.textContent = "refresh for details";
  cell.appendChild(document.createTextNode(" "));
  cell.appendChild(link);
}

export function watchAll(root = document) {
  for (const row of root.querySelectorAll("[data-dataset-version-id]")) {
    if (row.querySelector(".status")) watchStatus(row);
  }
}
