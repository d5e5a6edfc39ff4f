/* The Key Manager console (ADR 0022): plain JavaScript, no build step, no library, nothing from another origin.
 *
 * Every datum comes from the service's own JSON API, called with the session cookie; every non-GET request
 * carries the X-CSRF-Token header. All URLs are relative to the page (/v1/keymanager/admin/), so the console works
 * behind any host name or ingress prefix. Text from the API is put into the page with textContent, never parsed as markup.
 */
"use strict";

(function () {
  const API = "api/";          // /v1/keymanager/admin/api/...
  const SERVICE = "../";       // /v1/keymanager/...
  const DAY = 24 * 3600 * 1000;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const state = { session: null, csrf: null, keys: [], policies: [], caPage: 1, caPages: 1, selected: null };

  // -- small helpers ------------------------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  function el(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") element.className = value;
      else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else element.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  }

  function svg(tag, attributes, text) {
    const element = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes || {})) element.setAttribute(name, String(value));
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function parseTime(text) {
    if (!text) return null;
    const value = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : text + "Z");  // the API's times are UTC
    return Number.isNaN(value) ? null : value;
  }

  function day(text) {
    const time = parseTime(text);
    return time === null ? "" : new Date(time).toISOString().slice(0, 10);
  }

  function stamp(text) {
    const time = parseTime(text);
    return time === null ? (text || "") : new Date(time).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  function requestTime() {
    return new Date().toISOString();  // yyyy-MM-ddTHH:mm:ss.SSSZ, the MOSIP request time format
  }

  function download(name, text, type) {
    const url = URL.createObjectURL(new Blob([text], { type: type || "application/x-pem-file" }));
    const link = el("a", { href: url, download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  function readFileInto(input, textarea) {
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      if (!file) return;
      file.text().then((text) => { textarea.value = text; });
    });
  }

  function formValues(form) {
    const values = {};
    for (const [name, value] of new FormData(form).entries()) {
      if (typeof value === "string") values[name] = value.trim();
    }
    return values;
  }

  // -- messages -----------------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, errors) {
      super(errors.map((e) => `${e.errorCode}: ${e.message}`).join("; "));
      this.status = status;
      this.errors = errors;
    }
  }

  function show(text, kind) {
    const box = $("message");
    box.className = "message " + (kind || "error");
    box.setAttribute("role", kind === "ok" ? "status" : "alert");
    $("message-text").textContent = text;
    box.hidden = false;
  }

  function showError(error) {
    if (error instanceof ApiError) show(error.message, "error");
    else show("The service could not be reached: " + error.message, "error");
  }

  function clearMessage() {
    $("message").hidden = true;
  }

  // -- the API ------------------------------------------------------------------------------------------------

  /** Calls the service; answers the envelope's "response", throws ApiError with its "errors". */
  async function call(method, url, body) {
    const headers = { Accept: "application/json" };
    const options = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (method !== "GET") {
      if (state.csrf) headers["X-CSRF-Token"] = state.csrf;
      if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        options.body = JSON.stringify({
          id: "mosip.keymanager.console", version: "1.0", requesttime: requestTime(), metadata: {}, request: body,
        });
      }
    }
    pending(1);
    let response;
    try {
      response = await fetch(url, options);
    } finally {
      pending(-1);
    }
    let envelope = null;
    try {
      envelope = await response.json();
    } catch (ignored) {
      envelope = null;
    }
    if (response.status === 401 && state.session && state.session.authMode === "oidc") {
      window.location.assign("login");  // the session ended: sign in again
    }
    const errors = envelope && Array.isArray(envelope.errors) && envelope.errors.length ? envelope.errors : null;
    if (errors) throw new ApiError(response.status, errors);
    if (!response.ok) {
      throw new ApiError(response.status, [{ errorCode: "HTTP-" + response.status, message: response.statusText || "failed" }]);
    }
    return envelope ? envelope.response : null;
  }

  /** Requests under way, on <body data-pending> (the browser tests wait for 0). */
  let underWay = 0;
  function pending(change) {
    underWay += change;
    document.body.dataset.pending = String(underWay);
  }

  function query(parameters) {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(parameters)) if (value) search.set(name, value);
    const text = search.toString();
    return text ? "?" + text : "";
  }

  /** Answers arrive in any order: only the latest request of a kind (another filter, a refresh) is shown. */
  const tickets = {};
  function latest(kind) {
    const ticket = (tickets[kind] = (tickets[kind] || 0) + 1);
    return () => tickets[kind] === ticket;
  }

  // -- confirmation dialog ------------------------------------------------------------------------------------

  function confirmAction(title, paragraphs, okLabel) {
    const dialog = $("confirm");
    $("confirm-title").textContent = title;
    const text = $("confirm-text");
    text.replaceChildren(...paragraphs.map((p) => (Array.isArray(p)
      ? el("ul", {}, ...p.map((item) => el("li", {}, item)))
      : el("p", {}, p))));
    $("confirm-ok").textContent = okLabel || "Confirm";
    dialog.returnValue = "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
      dialog.showModal();
    });
  }

  // -- session ------------------------------------------------------------------------------------------------

  async function loadSession() {
    const response = await fetch(API + "session", { credentials: "same-origin", cache: "no-store",
      headers: { Accept: "application/json" } });
    if (response.status === 401) {
      window.location.assign("login");
      return false;
    }
    const envelope = await response.json().catch(() => null);
    if (!response.ok || !envelope || !envelope.response) {
      const errors = envelope && envelope.errors ? envelope.errors : [{ errorCode: "HTTP-" + response.status, message: "no session" }];
      throw new ApiError(response.status, errors);
    }
    const session = envelope.response;
    state.session = session;
    state.csrf = session.csrfToken || null;
    $("dev-banner").hidden = session.authMode !== "dev";
    $("user-name").textContent = session.user ? "Signed in as " + session.user : "";
    const roles = session.roles || [];
    $("user-roles").textContent = roles.length === 1 ? "(" + roles[0] + ")" : roles.length ? `(${roles.length} roles)` : "";
    $("user-roles").title = roles.join(", ");
    $("sign-out").hidden = session.authMode !== "oidc";
    document.body.dataset.authMode = session.authMode || "";
    return true;
  }

  async function signOut() {
    try {
      await call("POST", "logout");
    } catch (error) {
      showError(error);
      return;
    }
    // Not straight back to the sign-in: the identity provider may still have a session and sign in again at once.
    state.session = null;
    state.csrf = null;
    document.querySelector("nav.tabs").hidden = true;
    $("main").replaceChildren(el("section", { class: "panel", id: "signed-out" }, el("h2", {}, "Signed out"),
      el("p", {}, "Your console session has ended. ", el("a", { href: "login" }, "Sign in again"), ".")));
    $("who").replaceChildren();
  }

  // -- navigation ---------------------------------------------------------------------------------------------

  const SECTIONS = ["inventory", "timeline", "actions", "policies", "truststore", "audit"];
  const loaded = new Set();

  function route() {
    const name = SECTIONS.includes(window.location.hash.slice(1)) ? window.location.hash.slice(1) : "inventory";
    for (const section of SECTIONS) $(section).hidden = section !== name;
    for (const link of document.querySelectorAll("nav.tabs a")) {
      if (link.dataset.section === name) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    document.body.dataset.section = name;
    if (!loaded.has(name)) {
      loaded.add(name);
      const load = { inventory: loadKeys, timeline: loadTimeline, actions: loadActions, policies: loadPolicies,
        truststore: loadCaCertificates, audit: loadAudit }[name];
      load().catch(showError);
    } else if (name === "timeline") {
      drawTimeline();
    }
  }

  // -- key inventory ------------------------------------------------------------------------------------------

  /** The list an answer carries: {"keys": [...]} (or a bare list). */
  function listOf(answer, name) {
    if (Array.isArray(answer)) return answer;
    return answer && Array.isArray(answer[name]) ? answer[name] : [];
  }

  async function fetchKeys(parameters) {
    return listOf(await call("GET", API + "keys" + query(parameters || {})), "keys");
  }

  async function loadKeys() {
    const current = latest("keys");
    const filter = formValues($("inventory-filter"));
    const keys = await fetchKeys(filter);
    if (!current()) return;
    renderKeys(keys);
    const unfiltered = !filter.app && !filter.ref && !filter.status && !filter.q;
    if (unfiltered) state.keys = keys;
    fillAppIds(keys.map((key) => key.applicationId));
    document.body.dataset.keysLoaded = String(Date.now());
  }

  function badge(status) {
    return el("span", { class: "badge " + status }, status);
  }

  function renderKeys(keys) {
    const body = $("inventory-table").tBodies[0];
    body.replaceChildren(...keys.map((key) => {
      const revocable = key.kind === "base" && (key.status === "current" || key.status === "due");
      return el("tr", { "data-alias": key.alias, "data-app": key.applicationId, "data-ref": key.referenceId || "",
        "data-status": key.status, "data-kind": key.kind },
      el("td", {}, key.applicationId),
      el("td", {}, key.referenceId || "—"),
      el("td", {}, key.kind || ""),
      el("td", {}, key.algorithm || ""),
      el("td", { class: "status" }, badge(key.status)),
      el("td", { class: "issued", title: stamp(key.issued) }, day(key.issued)),
      el("td", { class: "expires", title: stamp(key.expires), "data-time": key.expires || "" }, day(key.expires)),
      el("td", {}, key.location || ""),
      el("td", { class: "mono", title: key.thumbprint || "" }, key.thumbprint ? key.thumbprint.slice(0, 12) + "…" : ""),
      el("td", { class: "row-actions" },
        key.thumbprint ? el("button", { type: "button", class: "details",  // a secret key has no certificate
          onclick: () => showDetails(key).catch(showError) }, "Details") : null,
        revocable ? el("button", { type: "button", class: "revoke danger",
          onclick: () => revoke(key.applicationId, key.referenceId) }, "Revoke") : null));
    }));
    $("inventory-count").textContent = keys.length === 1 ? "1 key" : keys.length + " keys";
  }

  async function showDetails(key) {
    const answer = await call("GET", API + "keys/" + encodeURIComponent(key.alias) + "/certificate");
    state.selected = { key, pem: answer.certificate };
    const list = $("details-list");
    const rows = [
      ["Application", key.applicationId], ["Reference", key.referenceId || "—"], ["Kind", key.kind],
      ["Status", key.status], ["Algorithm", key.algorithm], ["Alias", key.alias], ["Key id", key.keyId],
      ["Subject", key.subject], ["Thumbprint", key.thumbprint], ["Issued", stamp(key.issued)],
      ["Pre-expiry from", stamp(key.preExpiryStart)], ["Expires", stamp(key.expires)], ["Location", key.location],
    ];
    const details = answer.details && typeof answer.details === "object" ? answer.details : {};
    for (const [name, value] of Object.entries(details)) {
      rows.push([name, typeof value === "object" ? JSON.stringify(value) : value]);
    }
    list.replaceChildren(...rows.filter(([, value]) => value !== undefined && value !== null && value !== "")
      .flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, String(value))]));
    $("details-title").textContent = "Certificate of " + key.applicationId + (key.referenceId ? " / " + key.referenceId : "");
    $("details-pem").textContent = answer.certificate || "(no certificate)";
    $("chain-box").hidden = true;
    $("details").hidden = false;
    $("details").scrollIntoView({ block: "nearest" });
  }

  async function showChain() {
    const key = state.selected && state.selected.key;
    if (!key) return;
    const answer = await call("GET", SERVICE + "getCertificateChain" + query({
      applicationId: key.applicationId, referenceId: key.referenceId || "" }));
    state.selected.chain = answer.certificatesTrustPath;
    $("chain-pem").textContent = answer.certificatesTrustPath || "";
    $("chain-box").hidden = false;
  }

  function fillAppIds(ids) {
    const known = new Set(Array.from($("app-ids").options, (option) => option.value));
    for (const id of ids) {
      if (id && !known.has(id)) {
        known.add(id);
        $("app-ids").append(el("option", { value: id }));
      }
    }
  }

  // -- expiry timeline ----------------------------------------------------------------------------------------

  async function loadTimeline() {
    state.keys = await fetchKeys({});
    fillAppIds(state.keys.map((key) => key.applicationId));
    drawTimeline();
  }

  function keyLabel(key) {
    return key.applicationId + (key.referenceId ? " / " + key.referenceId : "") + (key.kind ? " · " + key.kind : "");
  }

  function drawTimeline() {
    const now = Date.now();
    const scope = $("timeline-scope").value;
    const keys = state.keys
      .filter((key) => parseTime(key.issued) !== null && parseTime(key.expires) !== null)
      .filter((key) => scope === "all" || key.status === "current" || key.status === "due")
      .sort((a, b) => parseTime(a.expires) - parseTime(b.expires));
    const chart = $("timeline-chart");
    if (!keys.length) {
      chart.replaceChildren(el("p", { class: "hint" }, "No key to show."));
      $("timeline-upcoming").replaceChildren();
      return;
    }
    let start;
    let end;
    if ($("timeline-range").value === "year") {
      start = now - 30 * DAY;
      end = now + 365 * DAY;
    } else {
      start = Math.min(now - 30 * DAY, ...keys.map((key) => parseTime(key.issued)));
      end = Math.max(now + 120 * DAY, ...keys.map((key) => parseTime(key.expires)));
    }
    const labelWidth = 260;
    const width = Math.max(720, chart.clientWidth || 960);
    const plot = width - labelWidth - 20;
    const rowHeight = 22;
    const top = 34;
    const height = top + keys.length * rowHeight + 12;
    const x = (time) => labelWidth + ((Math.min(Math.max(time, start), end) - start) / (end - start)) * plot;

    const root = svg("svg", { id: "timeline-svg", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-labelledby": "timeline-svg-title" });
    root.append(svg("title", { id: "timeline-svg-title" },
      `Validity of ${keys.length} keys from ${day(new Date(start).toISOString())} to ${day(new Date(end).toISOString())}`));
    const defs = svg("defs");
    const pattern = svg("pattern", { id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse",
      patternTransform: "rotate(45)" });
    pattern.append(svg("rect", { width: 6, height: 6, class: "hatch-ground" }));
    pattern.append(svg("line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch-line" }));
    defs.append(pattern);
    root.append(defs);

    // the next 90 days
    root.append(svg("rect", { class: "window", x: x(now), y: top - 6, width: Math.max(0, x(now + 90 * DAY) - x(now)),
      height: keys.length * rowHeight + 8 }));
    // axis: month or year ticks
    const axis = svg("g", { class: "axis" });
    const spanDays = (end - start) / DAY;
    const cursor = new Date(start);
    cursor.setUTCDate(1);
    cursor.setUTCHours(0, 0, 0, 0);
    const monthStep = spanDays > 2000 ? 12 : spanDays > 800 ? 6 : spanDays > 400 ? 3 : 1;
    if (monthStep === 12) cursor.setUTCMonth(0);
    while (cursor.getTime() <= end) {
      const time = cursor.getTime();
      if (time >= start) {
        const position = x(time);
        axis.append(svg("line", { x1: position, x2: position, y1: top - 8, y2: height - 8, class: "tick" }));
        const label = monthStep === 12 ? String(cursor.getUTCFullYear()) : cursor.toISOString().slice(0, 7);
        axis.append(svg("text", { x: position + 2, y: top - 12, class: "tick-label" }, label));
      }
      cursor.setUTCMonth(cursor.getUTCMonth() + monthStep);
    }
    root.append(axis);

    keys.forEach((key, index) => {
      const y = top + index * rowHeight;
      const issued = parseTime(key.issued);
      const expires = parseTime(key.expires);
      const preExpiry = parseTime(key.preExpiryStart);
      const row = svg("g", { class: "bar-row " + key.status, "data-alias": key.alias, "data-app": key.applicationId,
        "data-ref": key.referenceId || "" });
      row.append(svg("title", {}, `${keyLabel(key)}: ${key.status}, issued ${day(key.issued)}, ` +
        (preExpiry !== null ? `pre-expiry from ${day(key.preExpiryStart)}, ` : "") + `expires ${day(key.expires)}`));
      row.append(svg("text", { x: labelWidth - 8, y: y + 14, class: "bar-label" }, keyLabel(key)));
      row.append(svg("rect", { x: x(issued), y: y + 3, width: Math.max(1, x(expires) - x(issued)), height: rowHeight - 8,
        class: "bar " + key.status, rx: 2 }));
      if (preExpiry !== null && preExpiry < expires) {
        row.append(svg("rect", { x: x(preExpiry), y: y + 3, width: Math.max(1, x(expires) - x(preExpiry)),
          height: rowHeight - 8, class: "pre-expiry", fill: "url(#hatch)", rx: 2 }));
      }
      if (expires < start || issued > end) row.classList.add("outside");
      root.append(row);
    });
    // today
    root.append(svg("line", { x1: x(now), x2: x(now), y1: top - 10, y2: height - 4, class: "today" }));
    root.append(svg("text", { x: x(now) + 3, y: height - 2, class: "today-label" }, "today"));
    chart.replaceChildren(root);

    const horizon = now + 90 * DAY;
    const upcoming = [];
    for (const key of keys) {
      const expires = parseTime(key.expires);
      const preExpiry = parseTime(key.preExpiryStart);
      if (key.status !== "current" && key.status !== "due") continue;
      const entering = preExpiry !== null && preExpiry <= horizon && preExpiry > now;
      if (entering && expires <= horizon) {
        upcoming.push([preExpiry, `${keyLabel(key)} enters its pre-expiry window on ${day(key.preExpiryStart)}` +
          ` and expires on ${day(key.expires)}`]);
      } else if (entering) {
        upcoming.push([preExpiry, `${keyLabel(key)} enters its pre-expiry window on ${day(key.preExpiryStart)}`]);
      } else if (expires <= horizon) {
        upcoming.push([expires, `${keyLabel(key)} expires on ${day(key.expires)}`]);
      }
    }
    upcoming.sort((a, b) => a[0] - b[0]);
    $("timeline-upcoming").replaceChildren(...(upcoming.length ? upcoming.map(([, text]) => el("li", {}, text))
      : [el("li", {}, "Nothing expires or enters its pre-expiry window.")]));
    document.body.dataset.timelineDrawn = String(keys.length);
  }

  // -- actions ------------------------------------------------------------------------------------------------

  async function loadActions() {
    const [keys, policies] = await Promise.all([fetchKeys({}), call("GET", API + "policies")]);
    state.keys = keys;
    state.policies = listOf(policies, "policies");
    fillAppIds(state.policies.map((policy) => policy.applicationId));
    const masters = new Set(keys.filter((key) => !key.referenceId && (key.status === "current" || key.status === "due"))
      .map((key) => key.applicationId));
    const missing = state.policies.map((policy) => policy.applicationId).filter((app) => app && !masters.has(app)).sort();
    $("missing-keys").replaceChildren(...(missing.length ? missing.map((app) => el("li", {}, app + " ",
      el("button", { type: "button", class: "ceremony", "data-app": app, onclick: () => generateMaster(app, "", false) },
        "Generate " + app + " master key")))
      : [el("li", {}, "None: every application with a policy has a current master key.")]));
  }

  async function generateMaster(applicationId, referenceId, force) {
    const name = applicationId + (referenceId ? " / " + referenceId : "");
    if (force) {
      const ok = await confirmAction("Replace the master key of " + name + "?", [
        "A new key is generated now. Consequences:",
        [
          "the current key of " + name + " stops being current at once (it is expired now);",
          "data already encrypted to the old key still decrypts, and keys it wraps stay usable;",
          "partners must fetch the new certificate (getCertificate) before they encrypt again;",
          "keys certified by the old key keep their certificates until they rotate.",
        ],
      ], "Replace the key");
      if (!ok) return;
    }
    try {
      const answer = await call("POST", SERVICE + "generateMasterKey/CERTIFICATE", {
        applicationId, referenceId: referenceId || "", force: Boolean(force) });
      $("master-result").textContent = answer.certificate || "";
      $("master-result").hidden = false;
      show(`Master key of ${name}: valid until ${day(answer.expiryAt)}.`, "ok");
      loaded.delete("inventory");
      loaded.delete("timeline");
      await loadActions();
    } catch (error) {
      showError(error);
    }
  }

  async function revoke(applicationId, referenceId) {
    const name = applicationId + " / " + referenceId;
    const ok = await confirmAction("Revoke the key of " + name + "?", [
      "Its expiry is set to now. Consequences:",
      [
        "the next use of " + name + " makes a new key, with a new certificate partners must fetch;",
        "data already encrypted to the revoked key still decrypts;",
        "this cannot be undone.",
      ],
    ], "Revoke the key");
    if (!ok) return;
    try {
      const answer = await call("PUT", SERVICE + "revokeKey", { applicationId, referenceId, disableAutoGen: false });
      show(`${name}: ${answer.status}.`, "ok");
      loaded.delete("timeline");
      if (!$("inventory").hidden) await loadKeys();
      else loaded.delete("inventory");
    } catch (error) {
      showError(error);
    }
  }

  async function generateCsr(form) {
    const values = formValues(form);
    const request = { applicationId: values.applicationId, referenceId: values.referenceId || "" };
    for (const name of ["commonName", "organizationUnit", "organization", "location", "state", "country"]) {
      if (values[name]) request[name] = values[name];
    }
    const answer = await call("POST", SERVICE + "generateCSR", request);
    $("csr-pem").textContent = answer.certSignRequest || "";
    $("csr-box").hidden = false;
    show("CSR made for " + request.applicationId + (request.referenceId ? " / " + request.referenceId : "") + ".", "ok");
  }

  async function uploadCertificate(form) {
    const values = formValues(form);
    const other = values.target === "other";
    const answer = await call("POST", SERVICE + (other ? "uploadOtherDomainCertificate" : "uploadCertificate"), {
      applicationId: values.applicationId, referenceId: values.referenceId || "", certificateData: values.certificateData });
    show(`${values.applicationId}${values.referenceId ? " / " + values.referenceId : ""}: ${answer.status}.`, "ok");
    loaded.delete("inventory");
    loaded.delete("timeline");
  }

  // -- key policies -------------------------------------------------------------------------------------------

  async function loadPolicies() {
    const current = latest("policies");
    const policies = listOf(await call("GET", API + "policies"), "policies");
    if (!current()) return;
    state.policies = policies;
    fillAppIds(state.policies.map((policy) => policy.applicationId));
    $("policies-table").tBodies[0].replaceChildren(...state.policies.map((policy) => el("tr",
      { "data-app": policy.applicationId },
      el("th", { scope: "row" }, policy.applicationId),
      el("td", { class: "validity" }, policy.validityDays),
      el("td", { class: "preexpire" }, policy.preExpireDays),
      el("td", { class: "access" }, (policy.accessAllowed || []).join(", ") || "—"),
      el("td", {}, el("button", { type: "button", class: "edit", onclick: () => editPolicy(policy) },
        "Edit " + policy.applicationId)))));
  }

  function editPolicy(policy) {
    $("policy-app").value = policy.applicationId;
    $("policy-validity").value = policy.validityDays;
    $("policy-preexpire").value = policy.preExpireDays;
    $("policy-access").value = (policy.accessAllowed || []).join(", ");
    $("policy-errors").textContent = "";
    $("policy-form-title").textContent = "Edit the policy of " + policy.applicationId;
    $("policy-form").hidden = false;
    $("policy-validity").focus();
  }

  async function savePolicy(form) {
    const values = formValues(form);
    const errors = $("policy-errors");
    errors.textContent = "";
    const validityDays = Number(values.validityDays);
    const preExpireDays = Number(values.preExpireDays);
    const accessAllowed = (values.accessAllowed || "").split(",").map((user) => user.trim()).filter(Boolean);
    try {
      await call("PUT", API + "policies/" + encodeURIComponent(values.applicationId),
        { validityDays, preExpireDays, accessAllowed });
    } catch (error) {
      if (error instanceof ApiError) errors.textContent = error.message;
      else showError(error);
      return;
    }
    form.hidden = true;
    show(`Policy of ${values.applicationId} saved: the next key is valid ${validityDays} days.`, "ok");
    await loadPolicies();
  }

  // -- trust store --------------------------------------------------------------------------------------------

  async function loadCaCertificates() {
    const values = formValues($("ca-filter"));
    const request = { pageNumber: state.caPage, pageSize: 20, sortOrder: "DESC" };
    for (const name of ["partnerDomain", "caCertificateType", "issuedTo"]) if (values[name]) request[name] = values[name];
    const current = latest("ca");
    const answer = await call("POST", SERVICE + "getCaCertificates", request);
    if (!current()) return;
    const certificates = (answer && answer.allPartnerCertificates) || [];
    state.caPages = Math.max(1, (answer && answer.totalPages) || 1);
    $("ca-table").tBodies[0].replaceChildren(...certificates.map((certificate) => el("tr",
      { "data-cert-id": certificate.certId },
      el("td", {}, certificate.partnerDomain),
      el("td", {}, certificate.caCertificateType),
      el("td", { class: "issued-to" }, certificate.issuedTo),
      el("td", {}, certificate.issuedBy),
      el("td", { title: stamp(certificate.validFromDate) }, day(certificate.validFromDate)),
      el("td", { title: stamp(certificate.validTillDate) }, day(certificate.validTillDate)),
      el("td", {}, badge(certificate.status ? "current" : "expired")),
      el("td", { class: "mono" }, certificate.certId),
      el("td", {}, el("button", { type: "button", class: "trust-path",
        onclick: () => showTrustPath(certificate).catch(showError) }, "Trust path")))));
    const total = (answer && answer.totalRecords) || 0;
    $("ca-count").textContent = total === 1 ? "1 CA certificate" : total + " CA certificates";
    $("ca-page").textContent = `page ${state.caPage} of ${state.caPages}`;
    $("ca-prev").disabled = state.caPage <= 1;
    $("ca-next").disabled = state.caPage >= state.caPages;
  }

  async function showTrustPath(certificate) {
    const answer = await call("GET", SERVICE + "getCACertificateTrustPath/" + encodeURIComponent(certificate.certId));
    $("trustpath-title").textContent = "Trust path of " + certificate.issuedTo;
    $("trustpath-pem").textContent = answer.p7bFile || "";
    $("trustpath-box").hidden = false;
    $("trustpath-download").onclick = () => download(certificate.certId + "-trust-path.p7b", answer.p7bFile || "");
  }

  async function uploadCaCertificate(form) {
    const values = formValues(form);
    const answer = await call("POST", SERVICE + "uploadCACertificate",
      { certificateData: values.certificateData, partnerDomain: values.partnerDomain });
    show(`${values.partnerDomain}: ${answer.status}`, "ok");
    state.caPage = 1;
    await loadCaCertificates();
  }

  async function showPartnerCertificate(form) {
    const values = formValues(form);
    const answer = await call("GET", SERVICE + "getPartnerCertificate/" + encodeURIComponent(values.partnerCertId));
    $("partner-pem").textContent = answer.certificateData || "";
    $("partner-pem").hidden = false;
  }

  // -- audit --------------------------------------------------------------------------------------------------

  function first(record, ...names) {
    for (const name of names) if (record[name] !== undefined && record[name] !== null && record[name] !== "") return record[name];
    return "";
  }

  async function loadAudit() {
    const values = formValues($("audit-filter"));
    const current = latest("audit");
    const answer = await call("GET", API + "audit" + query(values));
    if (!current()) return;
    const records = listOf(answer, "records");
    const shown = new Set(["sequence", "seq", "time", "timestamp", "at", "operation", "outcome", "subject", "user",
      "applicationId", "appId", "app_id", "referenceId", "refId", "ref_id", "hash", "previousHash", "prevHash",
      "prev_hash"]);
    $("audit-table").tBodies[0].replaceChildren(...records.map((record) => {
      const rest = Object.entries(record).filter(([name, value]) => !shown.has(name) && value !== null && value !== "")
        .map(([name, value]) => name + "=" + (typeof value === "object" ? JSON.stringify(value) : value)).join(" ");
      const outcome = String(first(record, "outcome"));
      return el("tr", { "data-operation": first(record, "operation") },
        el("td", { class: "mono" }, first(record, "sequence", "seq")),
        el("td", {}, stamp(String(first(record, "time", "timestamp", "at")))),
        el("td", { class: "operation" }, first(record, "operation")),
        el("td", {}, outcome ? el("span", { class: "badge " + (outcome === "success" ? "success" : "failure") }, outcome)
          : ""),
        el("td", {}, first(record, "subject", "user")),
        el("td", {}, first(record, "applicationId", "appId", "app_id")),
        el("td", {}, first(record, "referenceId", "refId", "ref_id")),
        el("td", { class: "detail" }, rest));
    }));
  }

  async function verifyAudit() {
    const answer = await call("GET", API + "audit/verify");
    const box = $("audit-verify-result");
    box.className = "verify " + (answer.intact ? "intact" : "broken");
    box.replaceChildren(
      el("strong", {}, answer.intact ? "Chain intact" : "Chain BROKEN"),
      el("span", {}, ` · head sequence ${answer.headSequence}`),
      el("span", { class: "mono" }, ` · head hash ${answer.headHash || "—"}`),
      answer.intact ? null : el("span", {}, ` · first broken record: ${answer.firstBroken}`));
    box.hidden = false;
  }

  // -- wiring -------------------------------------------------------------------------------------------------

  function onSubmit(id, handler) {
    $(id).addEventListener("submit", (event) => {
      event.preventDefault();
      clearMessage();
      Promise.resolve(handler(event.target)).catch(showError);
    });
  }

  function wire() {
    $("message-close").addEventListener("click", clearMessage);
    $("sign-out").addEventListener("click", signOut);
    window.addEventListener("hashchange", () => { clearMessage(); route(); });
    onSubmit("inventory-filter", loadKeys);
    $("inventory-refresh").addEventListener("click", () => loadKeys().catch(showError));
    $("details-close").addEventListener("click", () => { $("details").hidden = true; });
    $("details-download").addEventListener("click", () => {
      if (state.selected) {
        const key = state.selected.key;
        download(`${key.applicationId}${key.referenceId ? "-" + key.referenceId : ""}.pem`, state.selected.pem || "");
      }
    });
    $("details-chain").addEventListener("click", () => showChain().catch(showError));
    $("chain-download").addEventListener("click", () => {
      if (state.selected && state.selected.chain) {
        const key = state.selected.key;
        download(`${key.applicationId}${key.referenceId ? "-" + key.referenceId : ""}-chain.p7b`, state.selected.chain);
      }
    });
    $("timeline-scope").addEventListener("change", drawTimeline);
    $("timeline-range").addEventListener("change", drawTimeline);
    $("timeline-options").addEventListener("submit", (event) => event.preventDefault());
    window.addEventListener("resize", () => { if (!$("timeline").hidden) drawTimeline(); });
    onSubmit("master-form", (form) => {
      const values = formValues(form);
      return generateMaster(values.applicationId, values.referenceId, $("master-force").checked);
    });
    onSubmit("revoke-form", (form) => {
      const values = formValues(form);
      return revoke(values.applicationId, values.referenceId);
    });
    onSubmit("csr-form", generateCsr);
    $("csr-download").addEventListener("click", () => download("request.csr", $("csr-pem").textContent, "application/pkcs10"));
    onSubmit("upload-form", uploadCertificate);
    readFileInto($("upload-file"), $("upload-pem"));
    onSubmit("policy-form", savePolicy);
    $("policy-cancel").addEventListener("click", () => { $("policy-form").hidden = true; });
    onSubmit("ca-filter", () => { state.caPage = 1; return loadCaCertificates(); });
    $("ca-prev").addEventListener("click", () => { state.caPage -= 1; loadCaCertificates().catch(showError); });
    $("ca-next").addEventListener("click", () => { state.caPage += 1; loadCaCertificates().catch(showError); });
    onSubmit("ca-upload-form", uploadCaCertificate);
    readFileInto($("ca-upload-file"), $("ca-upload-pem"));
    onSubmit("partner-form", showPartnerCertificate);
    onSubmit("audit-filter", loadAudit);
    $("audit-verify").addEventListener("click", () => verifyAudit().catch(showError));
  }

  async function start() {
    wire();
    try {
      if (!(await loadSession())) return;
    } catch (error) {
      showError(error);
      return;
    }
    document.body.dataset.ready = "true";
    route();
  }

  document.addEventListener("DOMContentLoaded", start);
}());
