// lawcert exam page: countdown from the server's deadline, autosave of every answer, an offline
// queue that survives reloads, and a confirmation before submitting. The server stays the
// judge of time: this script only displays it and stops sending once it has passed.
(function () {
  "use strict";
  var exam = document.getElementById("exam");
  if (!exam) return;

  var attemptId = exam.dataset.attempt;
  var deadline = Number(exam.dataset.deadline);
  // monotonic clock anchored to the server's time at page load: immune to the PC's clock
  var serverAtLoad = Number(exam.dataset.serverNow);
  var perfAtLoad = performance.now();
  function serverNow() { return serverAtLoad + (performance.now() - perfAtLoad); }

  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var msg = document.getElementById("i18n").dataset;
  var net = document.getElementById("net");
  var form = document.getElementById("paper");
  var queueKey = "lawcert-queue-" + attemptId;
  var queue = {};
  try { queue = JSON.parse(localStorage.getItem(queueKey) || "{}"); } catch (e) { queue = {}; }
  var inFlight = {};
  var timeUp = false;
  // set while the page shows a dialog of its own (see `report`)
  var ownDialog = false;
  var ownDialogUntil = 0;

  function persist() { try { localStorage.setItem(queueKey, JSON.stringify(queue)); } catch (e) { /* storage full or off */ } }
  function setNet(online) {
    net.textContent = online ? msg.online : msg.offline;
    net.classList.toggle("offline", !online);
  }
  function stateEl(qid) { return document.querySelector('#q' + qid + ' .save-state'); }
  function showState(qid, cls, text) {
    var el = stateEl(qid); if (!el) return;
    el.className = "save-state " + cls; el.textContent = text;
  }
  function readQuestion(fs) {
    var choices = [];
    fs.querySelectorAll('.options input:checked').forEach(function (i) { choices.push(i.value); });
    return { choices: choices, flagged: fs.querySelector(".flagbox").checked };
  }
  function markNav(qid, body) {
    var nav = document.getElementById("nav" + qid); if (!nav) return;
    nav.classList.toggle("answered", body.choices.length > 0);
    nav.classList.toggle("flagged", !!body.flagged);
  }

  // An overloaded server answers 503 with Retry-After: nothing was stored. Every send (answers
  // and events) then waits at least that long plus an exponentially growing random extra, so
  // a room full of pages does not come back at the same moment; the answer stays queued here
  // and the candidate sees "saving…", not an error.
  var backoffUntil = 0, backoffStep = 0, backoffTimer = null;
  function backingOff() { return Date.now() < backoffUntil; }
  function backOff(r) {
    var ra = Number(r.headers.get("Retry-After"));
    var floor = isFinite(ra) && ra > 0 ? ra * 1000 : 0;
    var spread = Math.min(30000, 500 * Math.pow(2, backoffStep));
    backoffStep = Math.min(backoffStep + 1, 10);
    var wait = floor + Math.random() * spread;
    backoffUntil = Math.max(backoffUntil, Date.now() + wait);
    if (backoffTimer) clearTimeout(backoffTimer);
    backoffTimer = setTimeout(function () { backoffTimer = null; flush(); if (flushEvents) flushEvents(); }, backoffUntil - Date.now() + 10);
  }
  var flushEvents = null; // set below on closed-book sittings

  function send(qid) {
    if (inFlight[qid] || !queue[qid] || timeUp) return;
    if (backingOff()) { showState(qid, "saving", msg.saving); return; }
    var body = queue[qid];
    inFlight[qid] = true;
    showState(qid, "saving", msg.saving);
    fetch("/api/v1/attempts/" + attemptId + "/answers/" + qid, {
      method: "PUT", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      inFlight[qid] = false;
      if (r.ok) {
        backoffStep = 0;
        if (queue[qid] === body) { delete queue[qid]; persist(); showState(qid, "saved", msg.saved); }
        else { send(qid); } // changed again while this save was on its way
        setNet(true);
        return;
      }
      if (r.status === 503) { setNet(true); showState(qid, "saving", msg.saving); backOff(r); return; }
      return r.json().catch(function () { return {}; }).then(function (j) {
        var err = (j && j.error) || {};
        if (r.status === 409) { delete queue[qid]; persist(); finish(); return; }
        if (r.status === 401 || r.status === 403) {
          // the reason in the page's language; the API's own message is English
          var said = { unauthorized: msg.errUnauthorized, forbidden: msg.errForbidden, outside_exam_room: msg.errOutsideExamRoom,
                       password_change_required: msg.errPasswordChangeRequired }[err.code];
          showState(qid, "error", msg.refused + (said || err.message || r.status));
          return;
        }
        if (r.status === 422 || r.status === 404) { delete queue[qid]; persist(); showState(qid, "error", msg.invalid); return; }
        showState(qid, "queued", msg.queued); // 5xx: keep it and retry
      });
    }).catch(function () {
      inFlight[qid] = false;
      setNet(false);
      showState(qid, "queued", msg.queued);
    });
  }
  function flush() { Object.keys(queue).forEach(send); }

  form.addEventListener("change", function (ev) {
    var fs = ev.target.closest("fieldset.question"); if (!fs || timeUp) return;
    var qid = fs.dataset.qid;
    var body = readQuestion(fs);
    queue[qid] = body; persist(); markNav(qid, body); send(qid);
  });

  // answers left unsent by an earlier visit (reload, crash) go out now; show them on the page
  Object.keys(queue).forEach(function (qid) {
    var fs = document.getElementById("q" + qid); if (!fs) { delete queue[qid]; return; }
    var body = queue[qid];
    fs.querySelectorAll('.options input').forEach(function (i) { i.checked = body.choices.indexOf(i.value) >= 0; });
    fs.querySelector(".flagbox").checked = !!body.flagged;
    markNav(qid, body);
  });
  persist();
  setNet(navigator.onLine !== false);
  flush();
  window.addEventListener("online", function () { setNet(true); flush(); });
  window.addEventListener("offline", function () { setNet(false); });
  setInterval(flush, 3000);

  // Keyboard: N / P next and previous question, A–F choose (toggle in multiple choice), T / F
  // true or false, M mark for review. Radio arrows and Tab keep working as usual.
  var questions = Array.prototype.slice.call(document.querySelectorAll("fieldset.question"));
  function current() {
    var f = document.activeElement && document.activeElement.closest && document.activeElement.closest("fieldset.question");
    return f || questions.find(function (q) { return q.getBoundingClientRect().bottom > 80; }) || questions[0];
  }
  function go(q) {
    if (!q) return;
    q.scrollIntoView({ block: "start" });
    var first = q.querySelector(".options input:checked") || q.querySelector(".options input");
    if (first) first.focus({ preventScroll: true });
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || timeUp) return;
    var t = ev.target;
    if (t && (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && /^(text|number|search)$/.test(t.type)))) return;
    var key = ev.key.length === 1 ? ev.key.toUpperCase() : ev.key;
    var q = current(); if (!q) return;
    var i = questions.indexOf(q);
    if (key === "N") { go(questions[i + 1]); ev.preventDefault(); return; }
    if (key === "P") { go(questions[i - 1]); ev.preventDefault(); return; }
    var box = null;
    if (key === "M") box = q.querySelector(".flagbox");
    // choice options are A–F; a true/false question's are T and F
    else if (/^[A-FT]$/.test(key)) box = q.querySelector('.options input[value="' + key + '"]');
    if (!box) return;
    ev.preventDefault();
    box.checked = box.type === "radio" ? true : !box.checked;
    box.focus({ preventScroll: true });
    box.dispatchEvent(new Event("change", { bubbles: true }));
  });

  var warned5 = false, warned1 = false;
  var countdown = document.getElementById("countdown");
  var warning = document.getElementById("warning");
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  // Re-read the server's clock and this attempt's deadline when the page comes back (the PC
  // slept, the tab was hidden, the network returned) and every minute: a suspended monotonic
  // clock or extra time granted by the proctor then shows at once, without a reload.
  function resync() {
    var sentAt = performance.now();
    fetch("/api/v1/attempts/" + attemptId, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (j) {
      if (!j || !j.server_time) return;
      var now = performance.now();
      serverAtLoad = Date.parse(j.server_time) + (now - sentAt) / 2;
      perfAtLoad = now;
      var d = Date.parse(j.deadline);
      if (!isNaN(d)) deadline = d;
    }).catch(function () { /* offline: keep counting from the last reading */ });
  }
  document.addEventListener("visibilitychange", function () { if (!document.hidden) resync(); });
  window.addEventListener("online", resync);
  setInterval(resync, 60000);

  function tick() {
    var left = Math.max(0, deadline - serverNow());
    var s = Math.floor(left / 1000);
    countdown.textContent = (s >= 3600 ? Math.floor(s / 3600) + ":" : "") + pad(Math.floor(s % 3600 / 60)) + ":" + pad(s % 60);
    countdown.parentElement.classList.toggle("low", s < 300);
    if (!warned5 && s <= 300 && s > 60) { warned5 = true; warning.hidden = false; warning.textContent = msg.warn5; }
    if (!warned1 && s <= 60) { warned1 = true; warning.hidden = false; warning.textContent = msg.warn1; }
    if (left <= 0) finish();
  }
  function finish() {
    if (timeUp) return;
    timeUp = true;
    form.querySelectorAll("input, button").forEach(function (i) { if (i.name !== "_csrf") i.disabled = true; });
    warning.hidden = false; warning.textContent = msg.timeup;
    // the server has submitted (or will on this request); show the result
    setTimeout(function () { window.location.href = "/attempts/" + attemptId + "/result"; }, 1500);
  }
  tick(); setInterval(tick, 500);

  // Closed-book sittings: full screen, and every focus loss or leaving full screen reported to
  // the server, which records it for the proctor and flags or submits at the sitting's limit.
  if (exam.dataset.fullscreen === "1") {
    var fsBar = document.getElementById("fs-bar");
    var lastEvent = 0;
    var showFs = function () { if (fsBar) fsBar.hidden = !!document.fullscreenElement || timeUp; };
    // events wait in their own queue (kept across reloads) and are sent like answers, so an
    // event raised offline reaches the proctor when the network returns
    var eventsKey = "lawcert-events-" + attemptId;
    var events = [];
    try { events = JSON.parse(localStorage.getItem(eventsKey) || "[]"); } catch (e) { events = []; }
    var sendingEvent = false;
    var keepEvents = function () { try { localStorage.setItem(eventsKey, JSON.stringify(events)); } catch (e) { /* ignore */ } };
    flushEvents = function () {
      if (sendingEvent || !events.length || timeUp || backingOff()) return;
      sendingEvent = true;
      fetch("/api/v1/attempts/" + attemptId + "/events", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ kind: events[0].kind })
      }).then(function (r) {
        sendingEvent = false;
        // delivered, or refused for good (the attempt is closed): either way it leaves the queue
        if (r.status < 500) { events.shift(); keepEvents(); }
        if (r.status === 503) backOff(r);
        return r.ok ? r.json() : null;
      }).then(function (j) {
        if (!j) return;
        if (j.submitted) { timeUp = true; window.location.href = "/attempts/" + attemptId + "/result"; return; }
        warning.hidden = false;
        warning.textContent = (j.flagged ? msg.eventFlagged : msg.eventRecorded) + " (" + j.events + (j.limit ? "/" + j.limit : "") + ")";
        flushEvents();
      }).catch(function () { sendingEvent = false; /* offline: kept, sent when the network returns */ });
    };
    setInterval(flushEvents, 3000);
    window.addEventListener("online", flushEvents);
    var report = function (kind) {
      var t = Date.now();
      // the page's own dialogs (the submit confirmation) take focus: that is not leaving the exam
      if (ownDialog || t < ownDialogUntil) return;
      if (timeUp || t - lastEvent < 1000) return; // one switch away fires blur and visibilitychange together
      lastEvent = t;
      events.push({ kind: kind }); keepEvents(); flushEvents();
    };
    flushEvents();
    document.getElementById("fs-enter").addEventListener("click", function () {
      if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(function () {});
    });
    document.addEventListener("fullscreenchange", function () { showFs(); if (!document.fullscreenElement) report("fullscreen_exit"); });
    document.addEventListener("visibilitychange", function () { if (document.hidden) report("focus_loss"); });
    window.addEventListener("blur", function () { report("focus_loss"); });
    showFs();
  }

  form.addEventListener("submit", function (ev) {
    if (timeUp) return;
    var missing = [];
    form.querySelectorAll("fieldset.question").forEach(function (fs, i) {
      if (!fs.querySelector(".options input:checked")) missing.push(i + 1);
    });
    var text = (missing.length ? msg.confirmMissing + missing.join(", ") + "\n\n" : "") + msg.confirm;
    ownDialog = true;
    var sure = window.confirm(text);
    ownDialog = false;
    // the focus comes back after the dialog closes: events in that moment are the dialog's
    ownDialogUntil = Date.now() + 1500;
    if (!sure) { ev.preventDefault(); return; }
    // the form itself carries every answer, so nothing queued is lost on submit
    try { localStorage.removeItem(queueKey); } catch (e) { /* ignore */ }
  });
})();

// "Print" buttons on printable pages (training files): no inline script under the CSP.
document.querySelectorAll("[data-print]").forEach((b) => b.addEventListener("click", () => window.print()));

// Long-running forms (imports): say the work is under way and keep the form from being sent
// twice. The server answers with the result page when it is done.
document.querySelectorAll("form[data-busy]").forEach(function (f) {
  f.addEventListener("submit", function () {
    var status = f.querySelector(".busy");
    if (status) {
      status.hidden = false;
      status.querySelector("span").textContent = f.dataset.busy;
    }
    f.setAttribute("aria-busy", "true");
    // disabled after the browser has taken the clicked button's value
    setTimeout(function () { f.querySelectorAll("button").forEach(function (b) { b.disabled = true; }); }, 0);
  });
});

// The proctor's page keeps itself current: every 15 s its live parts are re-read from the
// server, unless the proctor is filling in one of their forms.
(function () {
  if (!document.querySelector("[data-live]")) return;
  setInterval(function () {
    if (document.querySelector("[data-live] details[open], [data-live] input:focus")) return;
    fetch(window.location.href, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : null; }).then(function (html) {
      if (!html) return;
      var doc = new DOMParser().parseFromString(html, "text/html");
      document.querySelectorAll("[data-live]").forEach(function (el) {
        var fresh = doc.querySelector('[data-live="' + el.dataset.live + '"]');
        if (fresh) el.innerHTML = fresh.innerHTML;
      });
    }).catch(function () { /* offline: try again next time */ });
  }, 15000);
})();
