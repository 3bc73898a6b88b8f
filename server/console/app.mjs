// The console's single-page app. Every read and write goes through the Kinesis API at `/`, signed
// with SigV4 like any SDK call; the only other request is `GET /metrics` for the charts, signed
// the same way (a server started with --credentials verifies it too).
//
// Views are functions of the URL hash (`#/` for the streams list, `#/streams/<name>` for one
// stream); each returns a function that stops its timers, called when the view is left.

import {
  base64ToBytes,
  bytesToBase64,
  capacityModeLabel,
  counterRate,
  formatBytes,
  formatDateTime,
  formatHashKeyRange,
  formatSequenceRange,
  formatTimestamp,
  niceCeiling,
  parsePrometheus,
  parseUtcInput,
  polylinePoints,
  renderData,
  retentionLabel,
  statusLabel,
} from "./format.mjs";
import { signedHeaders } from "./sigv4.mjs";

/** Refresh periods. Short while a stream is changing state, so CREATING → ACTIVE shows promptly. */
const LIST_REFRESH_MS = 3000;
const DETAIL_REFRESH_CHANGING_MS = 1000;
const DETAIL_REFRESH_STEADY_MS = 5000;
const METRICS_REFRESH_MS = 5000;
/** Charts show the last 1, 5 or 15 minutes; readings older than the longest are dropped. */
const CHART_WINDOWS_MIN = [1, 5, 15];
const CHART_HISTORY_MS = 15 * 60 * 1000;
/** At most this many lines on a chart: the stream and its first shards. */
const CHART_LINES_MAX = 6;
/** Records per GetRecords page in the data viewer. */
const VIEWER_PAGE_RECORDS = 25;
/** Streams described (for shard count and retention) per list refresh. */
const LIST_DESCRIBE_MAX = 50;

const CREDENTIALS_KEY = "shardlog.console.credentials";
/** Placeholder credentials: enough for a server that verifies nothing. */
const PLACEHOLDER = { accessKey: "shardlog-console", secretKey: "shardlog-console", placeholder: true };

// ---------------------------------------------------------------------------------------------
// DOM helpers. Text always goes in as text nodes, never as HTML: stream names, tags and record
// data are user input.

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children.flat()) {
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function field(label, value, id) {
  return h("div", { class: "field" }, h("div", { class: "label" }, label), h("div", { class: "value", id }, value));
}

function statusBadge(status, id) {
  const label = statusLabel(status);
  return h("span", { class: `status ${label}`, id }, label);
}

function toast(message) {
  const element = document.getElementById("toast");
  element.textContent = message;
  element.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { element.hidden = true; }, 4000);
}

// ---------------------------------------------------------------------------------------------
// The API client.

/** An error answer of the Kinesis API: its `__type` and message. */
class ApiError extends Error {
  constructor(type, message) {
    super(message ? `${type}: ${message}` : type);
    this.type = type;
  }
}

function credentials() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(CREDENTIALS_KEY) ?? "null");
    if (saved && saved.accessKey && saved.secretKey) return saved;
  } catch {
    // A corrupt entry is as good as none.
  }
  return PLACEHOLDER;
}

/** Errors that mean "these credentials are not accepted", so the user is asked for others. */
// SigV4's credential scope must name the server's region, which the server tells the page.
let regionAsked;
function serverRegion() {
  regionAsked ??= fetch("/console/settings.json")
    .then((response) => response.json())
    .then((settings) => settings.region);
  return regionAsked;
}

const CREDENTIAL_ERRORS = new Set(["UnrecognizedClientException", "InvalidSignatureException"]);

async function call(operation, input = {}) {
  const body = JSON.stringify(input);
  const { accessKey, secretKey } = credentials();
  const headers = {
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": `Kinesis_20131202.${operation}`,
  };
  const signature = await signedHeaders({
    accessKey, secretKey, region: await serverRegion(), service: "kinesis",
    host: location.host, headers, body, now: new Date(),
  });
  let response;
  try {
    response = await fetch("/", { method: "POST", headers: { ...headers, ...signature }, body });
  } catch (error) {
    setConnection(false);
    throw new ApiError("NetworkError", `the server did not answer (${error.message})`);
  }
  setConnection(true);
  const text = await response.text();
  let json = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(`HTTP ${response.status}`, text.slice(0, 200));
  }
  if (!response.ok) {
    const type = String(json.__type ?? `HTTP ${response.status}`).split("#").pop();
    const error = new ApiError(type, json.message ?? json.Message ?? "");
    if (CREDENTIAL_ERRORS.has(type)) askForCredentials(error.message);
    throw error;
  }
  return json;
}

function setConnection(up) {
  document.getElementById("connection").textContent = up
    ? `${location.host} · ${credentials().placeholder ? "unsigned-credentials mode" : `signed as ${credentials().accessKey}`}`
    : `${location.host} · not answering`;
}

function askForCredentials(reason) {
  const dialog = document.getElementById("credentials-dialog");
  if (reason) document.getElementById("credentials-reason").textContent =
    `The server refused this console's signature (${reason}). Enter an access key it was started ` +
    "with (--credentials KEY:SECRET); it stays in this browser tab.";
  if (!dialog.open) dialog.showModal();
}

function setUpCredentialsDialog() {
  const dialog = document.getElementById("credentials-dialog");
  document.getElementById("credentials-open").addEventListener("click", () => askForCredentials());
  document.getElementById("credentials-form").addEventListener("submit", () => {
    const accessKey = document.getElementById("credentials-key").value.trim();
    const secretKey = document.getElementById("credentials-secret").value;
    if (accessKey && secretKey) {
      sessionStorage.setItem(CREDENTIALS_KEY, JSON.stringify({ accessKey, secretKey }));
      dialog.close();
      route();
    }
  });
}

/** Every shard of a stream, following ListShards pages. */
async function listAllShards(streamName) {
  const shards = [];
  let page = await call("ListShards", { StreamName: streamName });
  shards.push(...page.Shards);
  while (page.NextToken) {
    page = await call("ListShards", { NextToken: page.NextToken });
    shards.push(...page.Shards);
  }
  return shards;
}

// ---------------------------------------------------------------------------------------------
// Routing.

let leaveView = () => {};

function route() {
  leaveView();
  const view = document.getElementById("view");
  view.replaceChildren();
  const match = /^#\/streams\/(.+)$/.exec(location.hash);
  leaveView = match ? streamView(view, decodeURIComponent(match[1])) : streamsView(view);
}

function streamHref(name) {
  return `#/streams/${encodeURIComponent(name)}`;
}

/** Calls `refresh` now and then every `periodMs()` until the returned stop function is called. */
function every(periodMs, refresh) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    try {
      await refresh();
    } catch {
      // The view shows its own errors; the timer keeps going so the view recovers by itself.
    }
    if (!stopped) timer = setTimeout(tick, periodMs());
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

// ---------------------------------------------------------------------------------------------
// The streams list.

function streamsView(view) {
  const count = h("span", { class: "muted" });
  const listError = h("p", { class: "error", id: "list-error" });
  const rows = h("tbody", { id: "streams-rows" });
  const empty = h("p", { class: "muted", id: "streams-empty", hidden: true }, "No data streams yet. Create one below.");

  const nameInput = h("input", { id: "create-name", placeholder: "data-analysis-stream", autocomplete: "off" });
  const modeSelect = h("select", { id: "create-mode" },
    h("option", { value: "ON_DEMAND" }, "On-demand"),
    h("option", { value: "PROVISIONED" }, "Provisioned"));
  const shardInput = h("input", { id: "create-shards", type: "number", min: "1", value: "1", disabled: true });
  const createError = h("p", { class: "error", id: "create-error", role: "alert" });
  const createButton = h("button", { id: "create-submit", class: "primary", type: "submit" }, "Create data stream");
  modeSelect.addEventListener("change", () => { shardInput.disabled = modeSelect.value !== "PROVISIONED"; });

  const form = h("form", { class: "inline", id: "create-form" },
    h("label", {}, "Data stream name", nameInput),
    h("label", {}, "Capacity mode", modeSelect),
    h("label", {}, "Provisioned shards", shardInput),
    createButton);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    createError.textContent = "";
    const input = { StreamName: nameInput.value, StreamModeDetails: { StreamMode: modeSelect.value } };
    // The API, not the page, decides what is valid: whatever it answers is shown as is.
    if (modeSelect.value === "PROVISIONED") input.ShardCount = Number(shardInput.value);
    createButton.disabled = true;
    try {
      await call("CreateStream", input);
      location.hash = streamHref(nameInput.value);
    } catch (error) {
      createError.textContent = error.message;
    } finally {
      createButton.disabled = false;
    }
  });

  view.append(
    h("div", { class: "breadcrumb" }, "Amazon Kinesis › Data streams"),
    h("h1", {}, "Data streams ", count),
    h("section", { class: "panel" },
      h("h2", {}, "Create data stream"),
      form, createError),
    h("section", { class: "panel" },
      h("div", { class: "panel-head" }, h("h2", {}, "Data streams"), h("span", { class: "spacer" }),
        h("span", { class: "muted" }, `refreshes every ${LIST_REFRESH_MS / 1000} s`)),
      listError,
      h("div", { class: "table-wrap" }, h("table", { id: "streams-table" },
        h("thead", {}, h("tr", {},
          ["Name", "Status", "Capacity mode", "Open shards", "Data retention", "Creation time", ""]
            .map((title) => h("th", {}, title)))),
        rows)),
      empty));

  const refresh = async () => {
    let summaries;
    try {
      summaries = [];
      let page = await call("ListStreams", {});
      summaries.push(...(page.StreamSummaries ?? []));
      while (page.HasMoreStreams && page.NextToken) {
        page = await call("ListStreams", { NextToken: page.NextToken });
        summaries.push(...(page.StreamSummaries ?? []));
      }
      listError.textContent = "";
    } catch (error) {
      listError.textContent = error.message;
      return;
    }
    // Shard count and retention are not in the list; describe the first streams for them.
    const details = await Promise.all(summaries.slice(0, LIST_DESCRIBE_MAX).map((summary) =>
      call("DescribeStreamSummary", { StreamName: summary.StreamName })
        .then((answer) => answer.StreamDescriptionSummary)
        .catch(() => null)));
    count.textContent = `(${summaries.length})`;
    empty.hidden = summaries.length !== 0;
    rows.replaceChildren(...summaries.map((summary, index) => {
      const detail = details[index];
      return h("tr", { dataset: { stream: summary.StreamName } },
        h("td", {}, h("a", { href: streamHref(summary.StreamName) }, summary.StreamName)),
        h("td", {}, statusBadge(detail?.StreamStatus ?? summary.StreamStatus)),
        h("td", {}, capacityModeLabel(summary.StreamModeDetails?.StreamMode)),
        h("td", {}, detail ? String(detail.OpenShardCount) : "–"),
        h("td", {}, detail ? retentionLabel(detail.RetentionPeriodHours) : "–"),
        h("td", { class: "nowrap", title: formatTimestamp(summary.StreamCreationTimestamp) },
          formatDateTime(summary.StreamCreationTimestamp)),
        h("td", {}, h("button", {
          class: "danger", type: "button", onclick: () => confirmDelete(summary.StreamName, refresh),
        }, "Delete")));
    }));
  };
  return every(() => LIST_REFRESH_MS, refresh);
}

/** Deletion asks for the stream's name to be typed, as the Kinesis console does. */
function confirmDelete(name, then) {
  const input = h("input", { id: "delete-confirm-name", autocomplete: "off" });
  const error = h("p", { class: "error", id: "delete-error" });
  const dialog = h("dialog", { id: "delete-dialog" });
  const form = h("form", {},
    h("h2", {}, `Delete ${name}?`),
    h("p", {}, "Deleting a stream deletes its records. This cannot be undone."),
    h("label", {}, `Type the stream name (${name}) to confirm`, input),
    error,
    h("div", { class: "dialog-actions" },
      h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
      h("button", { type: "submit", class: "primary danger", id: "delete-submit" }, "Delete")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (input.value !== name) {
      error.textContent = "The name does not match.";
      return;
    }
    try {
      await call("DeleteStream", { StreamName: name });
      dialog.close();
      toast(`Deleting ${name}`);
      then();
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  dialog.append(form);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

// ---------------------------------------------------------------------------------------------
// One stream.

function streamView(view, name) {
  const status = h("span", { id: "detail-status-badge" });
  const details = h("div", { class: "grid", id: "stream-details" });
  const detailError = h("p", { class: "error", id: "detail-error" });
  const tags = h("div", { id: "tags" });
  const shardRows = h("tbody", { id: "shard-rows" });
  const shardError = h("p", { class: "error", id: "shard-error" });
  let summary = null;

  const retentionInput = h("input", { id: "retention-hours", type: "number", min: "24", max: "8760" });
  const retentionError = h("p", { class: "error", id: "retention-error" });
  const retentionForm = h("form", { class: "inline" },
    h("label", {}, "Data retention period (hours)", retentionInput),
    h("button", { type: "submit", id: "retention-submit" }, "Save retention"));
  retentionForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    retentionError.textContent = "";
    const hours = Number(retentionInput.value);
    const operation = hours >= (summary?.RetentionPeriodHours ?? 24)
      ? "IncreaseStreamRetentionPeriod" : "DecreaseStreamRetentionPeriod";
    try {
      await call(operation, { StreamName: name, RetentionPeriodHours: hours });
      toast(`Retention set to ${retentionLabel(hours)}`);
      await refreshSummary();
    } catch (error) {
      retentionError.textContent = error.message;
    }
  });

  // Capacity: the mode (UpdateStreamMode) and, for a provisioned stream, the shard count
  // (UpdateShardCount, uniform scaling). Kinesis' limits (½× to 2× the open shards, 10 scalings and
  // 2 mode switches a day) come back as the API's errors.
  const modeSelect = h("select", { id: "capacity-mode" },
    h("option", { value: "ON_DEMAND" }, "On-demand"),
    h("option", { value: "PROVISIONED" }, "Provisioned"));
  const shardCountInput = h("input", { id: "shard-count", type: "number", min: "1" });
  const capacityError = h("p", { class: "error", id: "capacity-error" });
  const capacityAction = (operation, input, done) => async (event) => {
    event.preventDefault();
    capacityError.textContent = "";
    try {
      await call(operation, input());
      toast(done());
      await refreshSummary();
      await refreshShards();
    } catch (error) {
      capacityError.textContent = error.message;
    }
  };
  const modeForm = h("form", { class: "inline" },
    h("label", {}, "Capacity mode", modeSelect),
    h("button", { type: "submit", id: "capacity-submit" }, "Save capacity mode"));
  modeForm.addEventListener("submit", capacityAction("UpdateStreamMode",
    () => ({ StreamARN: summary?.StreamARN, StreamModeDetails: { StreamMode: modeSelect.value } }),
    () => `Capacity mode set to ${capacityModeLabel(modeSelect.value)}`));
  const shardCountForm = h("form", { class: "inline" },
    h("label", {}, "Open shards", shardCountInput),
    h("button", { type: "submit", id: "shard-count-submit" }, "Update shard count"));
  shardCountForm.addEventListener("submit", capacityAction("UpdateShardCount",
    () => ({ StreamName: name, TargetShardCount: Number(shardCountInput.value), ScalingType: "UNIFORM_SCALING" }),
    () => `Scaling to ${shardCountInput.value} shards`));

  const tagKey = h("input", { id: "tag-key", placeholder: "key" });
  const tagValue = h("input", { id: "tag-value", placeholder: "value" });
  const tagError = h("p", { class: "error", id: "tag-error" });
  const tagForm = h("form", { class: "inline" },
    h("label", {}, "Tag key", tagKey), h("label", {}, "Value", tagValue),
    h("button", { type: "submit", id: "tag-submit" }, "Add tag"));
  tagForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    tagError.textContent = "";
    try {
      await call("AddTagsToStream", { StreamName: name, Tags: { [tagKey.value]: tagValue.value } });
      tagKey.value = "";
      tagValue.value = "";
      await refreshTags();
    } catch (error) {
      tagError.textContent = error.message;
    }
  });

  const put = putRecordPanel(name);
  const viewer = dataViewerPanel(name);
  const monitoring = monitoringPanel(name);
  const consumers = consumersPanel();

  view.append(
    h("div", { class: "breadcrumb" }, h("a", { href: "#/" }, "Data streams"), ` › ${name}`),
    h("h1", { id: "stream-title" }, name, " ", status),
    detailError,
    h("section", { class: "panel" }, h("h2", {}, "Data stream details"), details,
      h("hr", { class: "muted" }), retentionForm, retentionError,
      modeForm, shardCountForm, capacityError),
    h("section", { class: "panel" }, h("h2", {}, "Tags"), tags, tagForm, tagError),
    h("section", { class: "panel" },
      h("div", { class: "panel-head" }, h("h2", {}, "Shards")),
      shardError,
      h("div", { class: "table-wrap" }, h("table", { id: "shards-table" },
        h("thead", {}, h("tr", {}, ["Shard ID", "State", "Parent", "Children", "Hash-key range",
          "Sequence-number range", "Actions"].map((title) => h("th", {}, title)))),
        shardRows))),
    consumers.element,
    put.element,
    viewer.element,
    monitoring.element);

  const refreshSummary = async () => {
    try {
      summary = (await call("DescribeStreamSummary", { StreamName: name })).StreamDescriptionSummary;
      detailError.textContent = "";
    } catch (error) {
      detailError.textContent = error.message;
      return;
    }
    status.replaceChildren(statusBadge(summary.StreamStatus, "detail-status"));
    details.replaceChildren(
      field("Status", statusLabel(summary.StreamStatus), "detail-status-text"),
      field("Capacity mode", capacityModeLabel(summary.StreamModeDetails?.StreamMode), "detail-mode"),
      field("Data retention period", retentionLabel(summary.RetentionPeriodHours), "detail-retention"),
      field("Maximum record size", formatBytes((summary.MaxRecordSizeInKiB ?? 0) * 1024), "detail-max-record"),
      field("Open shards", String(summary.OpenShardCount), "detail-open-shards"),
      field("Creation time", formatDateTime(summary.StreamCreationTimestamp), "detail-created"),
      field("Encryption", summary.EncryptionType === "NONE" ? "Disabled" : summary.EncryptionType),
      field("ARN", h("code", {}, summary.StreamARN), "detail-arn"));
    if (document.activeElement !== retentionInput) retentionInput.value = String(summary.RetentionPeriodHours);
    if (document.activeElement !== modeSelect) modeSelect.value = summary.StreamModeDetails?.StreamMode ?? "PROVISIONED";
    if (document.activeElement !== shardCountInput) shardCountInput.value = String(summary.OpenShardCount);
    shardCountForm.hidden = summary.StreamModeDetails?.StreamMode !== "PROVISIONED";
    consumers.setStreamArn(summary.StreamARN);
  };

  const refreshTags = async () => {
    try {
      const answer = await call("ListTagsForStream", { StreamName: name });
      tags.replaceChildren(...(answer.Tags.length === 0
        ? [h("p", { class: "muted" }, "No tags.")]
        : answer.Tags.map((tag) => h("span", { class: "tag", dataset: { tag: tag.Key } }, `${tag.Key} = ${tag.Value ?? ""} `,
          h("button", { class: "link danger", type: "button", title: "Remove tag", onclick: async () => {
            try {
              await call("RemoveTagsFromStream", { StreamName: name, TagKeys: [tag.Key] });
              await refreshTags();
            } catch (error) {
              tagError.textContent = error.message;
            }
          } }, "×")))));
    } catch {
      // The summary's error line already says why the stream cannot be read.
    }
  };

  const refreshShards = async () => {
    let shards;
    try {
      shards = await listAllShards(name);
      shardError.textContent = "";
    } catch (error) {
      shardError.textContent = error.message;
      return;
    }
    viewer.setShards(shards);
    monitoring.setShards(shards);
    const children = new Map();
    for (const shard of shards) {
      for (const parent of [shard.ParentShardId, shard.AdjacentParentShardId]) {
        if (parent) children.set(parent, [...(children.get(parent) ?? []), shard.ShardId]);
      }
    }
    const open = shards.filter((shard) => !shard.SequenceNumberRange.EndingSequenceNumber);
    shardRows.replaceChildren(...shards.map((shard) => {
      const closed = Boolean(shard.SequenceNumberRange.EndingSequenceNumber);
      const range = shard.HashKeyRange;
      // A merge partner is the open shard whose range starts right after this one's.
      const next = closed ? null : open.find((other) =>
        BigInt(other.HashKeyRange.StartingHashKey) === BigInt(range.EndingHashKey) + 1n);
      const act = (label, operation, input) => h("button", { type: "button", dataset: { action: operation }, onclick: async () => {
        try {
          await call(operation, input);
          toast(`${label}: done`);
          await refreshShards();
          await refreshSummary();
        } catch (error) {
          shardError.textContent = error.message;
        }
      } }, label);
      const middle = (BigInt(range.StartingHashKey) + BigInt(range.EndingHashKey) + 1n) / 2n;
      return h("tr", { class: closed ? "closed" : "", dataset: { shard: shard.ShardId } },
        h("td", { class: "mono nowrap" }, shard.ShardId),
        h("td", {}, closed ? h("span", { class: "badge" }, "Closed") : "Open"),
        h("td", { class: "mono" }, [shard.ParentShardId, shard.AdjacentParentShardId].filter(Boolean).join(", ") || "–"),
        h("td", { class: "mono" }, (children.get(shard.ShardId) ?? []).join(", ") || "–"),
        h("td", { class: "mono hash" }, formatHashKeyRange(range.StartingHashKey, range.EndingHashKey)),
        h("td", { class: "mono sequence" }, formatSequenceRange(shard.SequenceNumberRange)),
        h("td", { class: "actions" }, closed ? "" : [
          act("Split in half", "SplitShard",
            { StreamName: name, ShardToSplit: shard.ShardId, NewStartingHashKey: middle.toString() }),
          next ? act(`Merge with ${next.ShardId}`, "MergeShards",
            { StreamName: name, ShardToMerge: shard.ShardId, AdjacentShardToMerge: next.ShardId }) : null,
        ]));
    }));
  };

  const stopSummary = every(
    () => (summary && summary.StreamStatus === "ACTIVE" ? DETAIL_REFRESH_STEADY_MS : DETAIL_REFRESH_CHANGING_MS),
    async () => {
      const before = summary?.StreamStatus;
      await refreshSummary();
      // Shards appear when CREATING ends and change with reshards: reread them on a change.
      if (summary && summary.StreamStatus !== before) await refreshShards();
    });
  refreshTags();
  return () => { stopSummary(); monitoring.stop(); consumers.stop(); };
}

/**
 * The stream's registered consumers (enhanced fan-out): ListStreamConsumers by the stream's ARN,
 * which the panel learns from the summary. Registering and deregistering go through the API; a
 * consumer stays CREATING or DELETING for a while, so the list is reread often until none is.
 */
function consumersPanel() {
  const rows = h("tbody", { id: "consumer-rows" });
  const empty = h("p", { class: "muted", id: "consumers-empty", hidden: true }, "No registered consumers.");
  const error = h("p", { class: "error", id: "consumer-error" });
  const nameInput = h("input", { id: "consumer-name", placeholder: "consumer name", autocomplete: "off" });
  const form = h("form", { class: "inline" },
    h("label", {}, "Consumer name", nameInput),
    h("button", { type: "submit", class: "primary", id: "consumer-submit" }, "Register consumer"));
  let streamArn = null;
  let changing = true;

  const refresh = async () => {
    if (!streamArn) return;
    const consumers = [];
    try {
      let page = await call("ListStreamConsumers", { StreamARN: streamArn });
      consumers.push(...(page.Consumers ?? []));
      while (page.NextToken) {
        page = await call("ListStreamConsumers", { StreamARN: streamArn, NextToken: page.NextToken });
        consumers.push(...(page.Consumers ?? []));
      }
    } catch (failure) {
      error.textContent = failure.message;
      return;
    }
    changing = consumers.some((consumer) => consumer.ConsumerStatus !== "ACTIVE");
    empty.hidden = consumers.length !== 0;
    rows.replaceChildren(...consumers.map((consumer) => h("tr", { dataset: { consumer: consumer.ConsumerName } },
      h("td", {}, consumer.ConsumerName),
      h("td", {}, statusBadge(consumer.ConsumerStatus)),
      h("td", { class: "mono" }, consumer.ConsumerARN),
      h("td", { class: "nowrap", title: formatTimestamp(consumer.ConsumerCreationTimestamp) },
        formatDateTime(consumer.ConsumerCreationTimestamp)),
      h("td", {}, consumer.ConsumerStatus === "DELETING" ? "" : h("button", {
        class: "danger", type: "button", dataset: { action: "DeregisterStreamConsumer" }, onclick: async () => {
          error.textContent = "";
          try {
            await call("DeregisterStreamConsumer", { ConsumerARN: consumer.ConsumerARN });
            toast(`Deregistering ${consumer.ConsumerName}`);
            await refresh();
          } catch (failure) {
            error.textContent = failure.message;
          }
        },
      }, "Deregister")))));
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      // The API, not the page, decides what is valid: whatever it answers is shown as is.
      await call("RegisterStreamConsumer", { StreamARN: streamArn, ConsumerName: nameInput.value });
      nameInput.value = "";
      await refresh();
    } catch (failure) {
      error.textContent = failure.message;
    }
  });

  const stop = every(() => (changing ? DETAIL_REFRESH_CHANGING_MS : DETAIL_REFRESH_STEADY_MS), refresh);
  return {
    element: h("section", { class: "panel", id: "consumers" },
      h("h2", {}, "Enhanced fan-out consumers"),
      error,
      h("div", { class: "table-wrap" }, h("table", { id: "consumers-table" },
        h("thead", {}, h("tr", {}, ["Name", "Status", "ARN", "Creation time", ""]
          .map((title) => h("th", {}, title)))),
        rows)),
      empty, form),
    setStreamArn(arn) {
      if (arn === streamArn) return;
      streamArn = arn;
      refresh();
    },
    stop,
  };
}

function putRecordPanel(name) {
  const key = h("input", { id: "put-key", placeholder: "partition key", value: "partition-1" });
  const data = h("textarea", { id: "put-data", placeholder: "data (sent as UTF-8)" });
  const result = h("p", { class: "result", id: "put-result" });
  const error = h("p", { class: "error", id: "put-error" });
  const form = h("form", { class: "inline" },
    h("label", {}, "Partition key", key), h("label", {}, "Data", data),
    h("button", { type: "submit", class: "primary", id: "put-submit" }, "Put record"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.textContent = "";
    error.textContent = "";
    try {
      const answer = await call("PutRecord", {
        StreamName: name,
        PartitionKey: key.value,
        Data: bytesToBase64(new TextEncoder().encode(data.value)),
      });
      result.replaceChildren("Stored in ", h("code", { id: "put-shard" }, answer.ShardId),
        " with sequence number ", h("code", { id: "put-sequence" }, answer.SequenceNumber));
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  return { element: h("section", { class: "panel" }, h("h2", {}, "Put a record"), form, result, error) };
}

function dataViewerPanel(name) {
  const shardSelect = h("select", { id: "viewer-shard" });
  const position = h("select", { id: "viewer-position" },
    ["TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP"]
      .map((type) => h("option", { value: type }, type)));
  const sequence = h("input", { id: "viewer-sequence", placeholder: "sequence number", disabled: true });
  const timestamp = h("input", { id: "viewer-timestamp", type: "datetime-local", step: "1", disabled: true });
  const error = h("p", { class: "error", id: "viewer-error" });
  const state = h("p", { class: "muted", id: "viewer-state" });
  const rows = h("tbody", { id: "viewer-rows" });
  const nextButton = h("button", { type: "button", id: "viewer-next", disabled: true }, "Next page");
  let iterator = null;

  position.addEventListener("change", () => {
    sequence.disabled = !position.value.includes("SEQUENCE");
    timestamp.disabled = position.value !== "AT_TIMESTAMP";
  });

  const page = async () => {
    error.textContent = "";
    try {
      const answer = await call("GetRecords", { ShardIterator: iterator, Limit: VIEWER_PAGE_RECORDS });
      iterator = answer.NextShardIterator ?? null;
      nextButton.disabled = !iterator;
      state.textContent = `${answer.Records.length} record${answer.Records.length === 1 ? "" : "s"} on this page · ` +
        `${answer.MillisBehindLatest ?? 0} ms behind the latest record` +
        (iterator ? "" : " · the shard is closed and fully read");
      rows.replaceChildren(...answer.Records.map((record) => {
        const shown = renderData(base64ToBytes(record.Data));
        return h("tr", { dataset: { sequence: record.SequenceNumber } },
          h("td", { class: "mono sequence" }, record.SequenceNumber),
          h("td", { class: "mono" }, formatTimestamp(record.ApproximateArrivalTimestamp)),
          h("td", {}, record.PartitionKey),
          h("td", { class: "data" }, shown.kind === "text"
            ? h("span", { class: "record-text" }, shown.text)
            : [h("span", { class: "badge" }, "binary"), " ", h("code", { title: `base64 ${shown.base64}` }, shown.hex)]));
      }));
    } catch (failure) {
      error.textContent = failure.message;
    }
  };

  const form = h("form", { class: "inline" },
    h("label", {}, "Shard", shardSelect), h("label", {}, "Starting position", position),
    h("label", {}, "Sequence number", sequence), h("label", {}, "Timestamp (UTC)", timestamp),
    h("button", { type: "submit", class: "primary", id: "viewer-submit" }, "Get records"), nextButton);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const input = { StreamName: name, ShardId: shardSelect.value, ShardIteratorType: position.value };
    if (position.value.includes("SEQUENCE")) input.StartingSequenceNumber = sequence.value;
    if (position.value === "AT_TIMESTAMP") {
      const seconds = parseUtcInput(timestamp.value);
      if (seconds === null) {
        error.textContent = "Enter a timestamp (UTC).";
        return;
      }
      input.Timestamp = seconds;
    }
    try {
      iterator = (await call("GetShardIterator", input)).ShardIterator;
    } catch (failure) {
      error.textContent = failure.message;
      return;
    }
    await page();
  });
  nextButton.addEventListener("click", page);

  return {
    element: h("section", { class: "panel" }, h("h2", {}, "Data viewer"), form, error, state,
      h("div", { class: "table-wrap" }, h("table", { id: "viewer-table" },
        h("thead", {}, h("tr", {}, ["Sequence number", "Arrival time (UTC)", "Partition key", "Data"]
          .map((title) => h("th", {}, title)))),
        rows))),
    setShards(shards) {
      const chosen = shardSelect.value;
      shardSelect.replaceChildren(...shards.map((shard) => h("option", { value: shard.ShardId },
        shard.ShardId + (shard.SequenceNumberRange.EndingSequenceNumber ? " (closed)" : ""))));
      if (shards.some((shard) => shard.ShardId === chosen)) shardSelect.value = chosen;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Monitoring: `/metrics` read every few seconds; counters charted as per-second rates.

/** Each chart: Prometheus families at stream and shard level (summed when several). */
const CHARTS = [
  { key: "IncomingRecords", title: "Incoming records (per second)", counter: true,
    stream: ["shardlog_stream_incoming_records_total"], shard: ["shardlog_shard_incoming_records_total"] },
  { key: "IncomingBytes", title: "Incoming bytes (per second)", counter: true,
    stream: ["shardlog_stream_incoming_bytes_total"], shard: ["shardlog_shard_incoming_bytes_total"] },
  { key: "IteratorAge", title: "GetRecords.IteratorAgeMilliseconds", counter: false,
    stream: ["shardlog_stream_get_records_iterator_age_milliseconds"], shard: ["shardlog_shard_iterator_age_milliseconds"] },
  { key: "Throttled", title: "Throttled records (per second)", counter: true,
    stream: ["shardlog_stream_write_provisioned_throughput_exceeded_total", "shardlog_stream_read_provisioned_throughput_exceeded_total"],
    shard: ["shardlog_shard_write_provisioned_throughput_exceeded_total", "shardlog_shard_read_provisioned_throughput_exceeded_total"] },
];

function monitoringPanel(name) {
  const note = h("p", { class: "muted", id: "monitoring-note" }, "Reading /metrics…");
  const charts = h("div", { class: "charts", id: "charts" });
  /** Per chart, per line ("stream" or a shard id): readings [{ atMs, raw, value }]. */
  const history = CHARTS.map(() => new Map());
  let openShards = [];
  let windowMs = 5 * 60 * 1000;
  const windowSelect = h("select", { id: "monitoring-window" },
    CHART_WINDOWS_MIN.map((minutes) => h("option", { value: String(minutes), selected: minutes === 5 },
      `last ${minutes} min`)));
  windowSelect.addEventListener("change", () => {
    windowMs = Number(windowSelect.value) * 60 * 1000;
    draw(Date.now());
  });

  const read = async () => {
    let text;
    try {
      const { accessKey, secretKey } = credentials();
      const signature = await signedHeaders({
        accessKey, secretKey, region: await serverRegion(), service: "kinesis",
        host: location.host, method: "GET", path: "/metrics", now: new Date(),
      });
      const response = await fetch("/metrics", { headers: { accept: "text/plain", ...signature } });
      if (!response.ok) {
        note.textContent = `This server does not serve /metrics (HTTP ${response.status}); no charts.`;
        return;
      }
      text = await response.text();
    } catch (error) {
      note.textContent = `Could not read /metrics: ${error.message}`;
      return;
    }
    const atMs = Date.now();
    const samples = parsePrometheus(text).filter((sample) => sample.labels.stream === name);
    CHARTS.forEach((chart, index) => {
      const lines = history[index];
      const record = (line, raw) => {
        const readings = lines.get(line) ?? [];
        const previous = readings[readings.length - 1];
        const value = chart.counter
          ? (previous ? counterRate(previous.raw, raw, (atMs - previous.atMs) / 1000) : null)
          : raw;
        readings.push({ atMs, raw, value });
        while (readings.length && readings[0].atMs < atMs - CHART_HISTORY_MS) readings.shift();
        lines.set(line, readings);
      };
      const sum = (families, shard) => samples
        .filter((sample) => families.includes(sample.name) && (shard ? sample.labels.shard === shard : !sample.labels.shard))
        .reduce((total, sample) => total + sample.value, 0);
      record("stream", sum(chart.stream, null));
      for (const shard of openShards.slice(0, CHART_LINES_MAX - 1)) record(shard, sum(chart.shard, shard));
    });
    note.textContent = `Live from /metrics every ${METRICS_REFRESH_MS / 1000} s since this page opened ` +
      "(counters as per-second rates since the previous reading).";
    draw(atMs);
  };

  const draw = (nowMs) => {
    charts.replaceChildren(...CHARTS.map((chart, index) => {
      const width = 300;
      const height = 100;
      const lines = [...history[index].entries()].map(([line, readings]) =>
        [line, readings.filter((reading) => reading.value !== null && reading.atMs >= nowMs - windowMs)]);
      const top = niceCeiling(Math.max(0, ...lines.flatMap(([, readings]) => readings.map((reading) => reading.value))));
      const fromMs = nowMs - windowMs;
      const svg = s("svg", { viewBox: `-34 -6 ${width + 40} ${height + 20}`, role: "img", "aria-label": chart.title },
        s("line", { class: "axis", x1: 0, y1: height, x2: width, y2: height }),
        s("line", { class: "axis", x1: 0, y1: 0, x2: width, y2: 0 }),
        s("line", { class: "axis", x1: 0, y1: height / 2, x2: width, y2: height / 2 }),
        s("text", { x: -4, y: 4, "text-anchor": "end" }, compact(top)),
        s("text", { x: -4, y: height / 2 + 4, "text-anchor": "end" }, compact(top / 2)),
        s("text", { x: -4, y: height + 4, "text-anchor": "end" }, "0"),
        s("text", { x: 0, y: height + 14 }, `−${windowMs / 60000} min`),
        s("text", { x: width, y: height + 14, "text-anchor": "end" }, "now"),
        lines.map(([, readings], line) => s("polyline", {
          class: `line swatch-${line}`, points: polylinePoints(readings, fromMs, nowMs, top, width, height),
        })));
      const latest = lines.map(([line, readings], swatch) => h("span", { class: `swatch-${swatch}` },
        `■ ${shortShardName(line)}: ${compact(readings[readings.length - 1]?.value ?? 0)}`));
      // The stream's own reading, beside the chart: a counter's total since the server started
      // (what a rate hides when it is quiet), a gauge's latest value.
      const streamReadings = history[index].get("stream") ?? [];
      const latestRaw = streamReadings[streamReadings.length - 1]?.raw ?? 0;
      const reading = h("div", { class: "legend reading" },
        chart.counter ? `stream total: ${compact(latestRaw)}` : `stream now: ${compact(latestRaw)}`);
      return h("div", { class: "chart", dataset: { metric: chart.key } }, h("h3", {}, chart.title), reading, svg,
        h("div", { class: "legend" }, latest));
    }));
  };

  const stop = every(() => METRICS_REFRESH_MS, read);
  return {
    element: h("section", { class: "panel", id: "monitoring" },
      h("div", { class: "panel-head" }, h("h2", {}, "Monitoring"), h("span", { class: "spacer" }), windowSelect),
      note, charts),
    setShards(shards) {
      openShards = shards.filter((shard) => !shard.SequenceNumberRange.EndingSequenceNumber).map((shard) => shard.ShardId);
    },
    stop,
  };
}

/** "shardId-000000000002" → "shard 2" for chart legends; "stream" stays. */
function shortShardName(line) {
  const match = /^shardId-0*(\d+)$/.exec(line);
  return match ? `shard ${match[1]}` : line;
}

/** 1234 → "1.2k", for axis labels and legends. */
function compact(value) {
  if (value >= 1e9) return `${(value / 1e9).toFixed(1)}G`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

setUpCredentialsDialog();
window.addEventListener("hashchange", route);
route();
