// The operator dashboard: fills the page the server rendered from the JSON API (API.md).
// Every value goes in through textContent; the function key from the page's `?code=` goes to the
// API as the x-functions-key header, and onto links only to the dashboard's own pages.
"use strict";

(() => {
  const body = document.body;
  const apiBase = body.dataset.api;
  const key = new URLSearchParams(location.search).get("code");
  const FINAL = ["Succeeded", "Warning", "Failed", "Terminated", "Skipped"];
  const COUNTS = ["read", "written", "skipped", "failed"];

  async function call(method, path, options = {}) {
    const query = options.params ? "?" + new URLSearchParams(options.params) : "";
    const headers = key ? { "x-functions-key": key } : {};
    const init = { method, headers, credentials: "same-origin" };
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.json);
    }
    const answer = await fetch(`${apiBase}/${path}${query}`, init);
    const text = await answer.text();
    const data = text ? JSON.parse(text) : null;
    if (!answer.ok && !options.accept?.includes(answer.status)) {
      throw new Error(data && data.detail ? `${answer.status}: ${data.detail}` : `${answer.status} ${answer.statusText}`);
    }
    return { status: answer.status, data, headers: answer.headers };
  }

  const enc = encodeURIComponent;

  function pageLink(...segments) {
    return `${apiBase}/ui/${segments.map(enc).join("/")}${key ? "?code=" + enc(key) : ""}`;
  }

  function el(tag, text, attributes = {}) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    return node;
  }

  function anchor(text, href) {
    return el("a", text, { href });
  }

  function when(iso) {
    return iso ? new Date(iso).toLocaleString() : "—";
  }

  function shortened(text, length) {
    const value = String(text || "");
    return el("span", value.length > length ? value.slice(0, length) + "…" : value, { title: value });
  }

  function json(value) {
    return value === undefined ? "" : JSON.stringify(value);
  }

  function row(tbody, cells, className) {
    const tr = el("tr", null, className ? { class: className } : {});
    for (const cell of cells) {
      const td = el("td");
      if (cell instanceof Node) td.append(cell); else td.textContent = cell === null || cell === undefined ? "" : String(cell);
      tr.append(td);
    }
    tbody.append(tr);
    return tr;
  }

  function tbody(selector) {
    const found = document.querySelector(`${selector} tbody`);
    found.replaceChildren();
    return found;
  }

  function showEmpty(selector, empty) {
    const table = document.querySelector(selector);
    table.hidden = empty;
    const note = table.parentElement.querySelector(".empty");
    if (note) note.hidden = !empty;
  }

  function notice(text, link) {
    const box = document.getElementById("notice");
    box.replaceChildren(text);
    if (link) box.append(" ", link);
    box.hidden = false;
  }

  function status(text) {
    return el("span", text, { class: `status ${String(text).toLowerCase()}` });
  }

  function totals(tasks) {
    const sum = Object.fromEntries(COUNTS.map((name) => [name, 0]));
    for (const task of tasks) for (const name of COUNTS) sum[name] += task[name] || 0;
    return sum;
  }

  // a "More" button that loads the page after `token`, shown while there is one
  function offerMore(buttonId, token, load) {
    const more = document.getElementById(buttonId);
    more.hidden = !token;
    more.onclick = guarded(() => load(token));
  }

  function guarded(action) {
    return (...args) => action(...args).catch((error) => notice(error.message));
  }

  // --- the projects -----------------------------------------------------------------------------

  async function overview() {
    const { data: projects } = await call("GET", "projects");
    const rows = tbody("#projects");
    showEmpty("#projects", projects.length === 0);
    for (const project of projects) {
      const tr = row(rows, [anchor(project.name, pageLink("projects", project.name)), (project.tasks || []).length,
        project.schedule || "—", when(project.nextRun), "—", ""]);
      tr.dataset.project = project.name;
      call("GET", `projects/${enc(project.name)}/runs`, { params: { top: "1" } }).then(({ data: runs }) => {
        if (!runs.length) return;
        const [last] = runs;
        tr.cells[4].replaceChildren(anchor(when(last.createdTime), pageLink("runs", last.runId)));
        tr.cells[5].replaceChildren(status(last.runtimeStatus));
      }).catch((error) => notice(error.message));
    }
  }

  // --- one project ------------------------------------------------------------------------------

  async function project() {
    const id = body.dataset.project;
    const { data: definition } = await call("GET", `projects/${enc(id)}`);
    const summary = [definition.description, `${(definition.tasks || []).length} task(s)`,
      definition.schedule ? `schedule ${definition.schedule}, next run ${when(definition.nextRun)}` : "no schedule"];
    document.getElementById("summary").textContent = summary.filter(Boolean).join(" · ");
    document.getElementById("sync-now").addEventListener("submit", guarded((event) => syncNow(event, id)));
    const remove = document.getElementById("delete-project");
    if (remove) remove.addEventListener("click", guarded(() => deleteProject(id)));
    await Promise.all([history(id), conflicts(id), consent(id)]);
  }

  async function syncNow(event, id) {
    event.preventDefault();
    const form = event.target;
    const request = { mode: form.elements.mode.value, dryRun: form.elements.dryRun.checked };
    const answer = await call("POST", `projects/${enc(id)}/runs`, { json: request, accept: [409] });
    if (answer.status === 409) {
      notice("A run of this project is already going:", anchor(answer.data.runId, pageLink("runs", answer.data.runId)));
      return;
    }
    location.assign(pageLink("runs", answer.data.runId));
  }

  async function history(id) {
    const { data: runs } = await call("GET", `projects/${enc(id)}/runs`, { params: { top: "50" } });
    const rows = tbody("#history");
    showEmpty("#history", runs.length === 0);
    for (const run of runs) {
      const sum = totals(run.tasks);
      row(rows, [anchor(run.runId, pageLink("runs", run.runId)), status(run.runtimeStatus),
        run.mode + (run.dryRun ? " (dry run)" : ""), when(run.createdTime), when(run.lastUpdatedTime),
        ...COUNTS.map((name) => sum[name])]);
    }
  }

  async function conflicts(id, token = null) {
    const params = token ? { state: "open", continuationToken: token } : { state: "open" };
    const { data: page } = await call("GET", `projects/${enc(id)}/conflicts`, { params });
    const rows = token ? document.querySelector("#conflicts tbody") : tbody("#conflicts");
    for (const conflict of page.value) {
      const buttons = el("span");
      for (const [take, label] of [["source", "Take source"], ["cds", "Take CDS"]]) {
        const button = el("button", label, { type: "button", class: `settle ${take}` });
        button.addEventListener("click", guarded(() => settle(id, conflict.conflictId, take)));
        buttons.append(button);
      }
      const tr = row(rows, [conflict.task, json(conflict.businessKey), conflict.field, json(conflict.baseline),
        json(conflict.source.value), json(conflict.cds.value), buttons]);
      tr.dataset.conflict = conflict.conflictId;
    }
    showEmpty("#conflicts", rows.children.length === 0);
    offerMore("more-conflicts", page.continuationToken, (next) => conflicts(id, next));
  }

  async function settle(id, conflictId, take) {
    await call("POST", `projects/${enc(id)}/conflicts/${enc(conflictId)}/resolve`, { json: { take } });
    notice(`Conflict settled: ${take === "cds" ? "CDS" : "source"} value taken; the next run applies it.`);
    await conflicts(id);
  }

  async function consent(id) {
    const { data: records } = await call("GET", `projects/${enc(id)}/consent`);
    const rows = tbody("#consent");
    for (const record of records) {
      const residency = record.dataResidency ? `${record.dataResidency.from} → ${record.dataResidency.to}` : "—";
      row(rows, [record.acceptedBy, when(record.acceptedAt), record.noticeVersion, (record.systems || []).join(", "),
        residency, shortened(record.definitionHash, 23)]);
    }
  }

  async function deleteProject(id) {
    if (!window.confirm(`Delete project ${id}? Its consent records and run history stay.`)) return;
    await call("DELETE", `projects/${enc(id)}`);
    location.assign(document.querySelector(".brand").href);
  }

  // --- one run ----------------------------------------------------------------------------------

  async function run() {
    const id = body.dataset.run;
    const link = document.getElementById("project-link");
    link.href = pageLink("projects", body.dataset.project);
    document.getElementById("error-filter").addEventListener("submit", guarded((event) => {
      event.preventDefault();
      return errors(id, null);
    }));
    document.getElementById("terminate").addEventListener("click", guarded(() => terminate(id)));
    await Promise.all([progress(id), errors(id, null)]);
  }

  async function progress(id, polled = false) {
    const answer = await call("GET", `runs/${enc(id)}`);
    showRun(answer.data);
    if (answer.status === 202) {
      const wait = Math.max(1, Number(answer.headers.get("Retry-After")) || 2) * 1000;
      setTimeout(guarded(() => progress(id, true)), wait);
    } else if (polled) {
      await errors(id, null);
    }
  }

  function showRun(view) {
    const text = (id, value) => { document.getElementById(id).textContent = value || "—"; };
    document.getElementById("status").replaceChildren(status(view.runtimeStatus));
    text("mode", view.mode + (view.dryRun ? " (dry run: nothing written)" : ""));
    text("created", when(view.createdTime));
    text("updated", when(view.lastUpdatedTime));
    text("message", view.message);
    const going = !FINAL.includes(view.runtimeStatus);
    const custom = view.customStatus || {};
    text("current", going && custom.task ? `task ${custom.taskNumber} of ${custom.taskCount}: ${custom.task}` : "");
    document.getElementById("terminate").hidden = !going;
    body.dataset.state = going ? "running" : "finished";
    const rows = tbody("#progress");
    for (const task of view.tasks) {
      const legs = task.legs && task.legs.length ? task.legs : [{ leg: "", ...task }];
      legs.forEach((leg, n) => row(rows, [n === 0 ? task.name : "", leg.leg, n === 0 ? status(task.status) : "",
        ...COUNTS.map((name) => leg[name])]));
    }
    const live = going ? view.liveLegs || [] : [];
    live.forEach((leg, n) => row(rows, [n === 0 || live[n - 1].task !== leg.task ? leg.task : "", leg.leg,
      status("Running"), ...COUNTS.map((name) => leg[name])], "current"));
    if (going && !live.length && custom.task && custom.taskNumber > view.tasks.length) {
      row(rows, [custom.task, "", status("Running"), "…", "…", "…", "…"], "current");
    }
    const sum = totals(view.tasks.concat(live));
    for (const name of COUNTS) document.querySelector(`#progress tfoot .${name}`).textContent = sum[name];
  }

  async function terminate(id) {
    await call("POST", `runs/${enc(id)}/terminate`);
    notice("Terminating: the run stops after the pages being written.");
  }

  async function errors(id, token) {
    const form = document.getElementById("error-filter");
    const params = {};
    for (const name of ["task", "leg", "field", "code"]) {
      if (form.elements[name].value) params[name] = form.elements[name].value;
    }
    if (token) params.continuationToken = token;
    const { data: page } = await call("GET", `runs/${enc(id)}/errors`, { params });
    const rows = token ? document.querySelector("#errors tbody") : tbody("#errors");
    for (const record of page.value) {
      const details = el("details");
      details.append(el("summary", "record"), el("pre", JSON.stringify(record.record, null, 2)));
      row(rows, [record.task, record.leg, json(record.businessKey), record.field, record.code, record.message, details]);
    }
    showEmpty("#errors", rows.children.length === 0);
    offerMore("more-errors", page.continuationToken, (next) => errors(id, next));
  }

  const views = { overview, project, run };
  const view = views[body.dataset.view];
  if (view) guarded(view)();
})();
