// codesession dashboard: the pricing filter and alarm mode. No network but
// this server; no libraries.
(function () {
  "use strict";

  var filter = document.getElementById("price-filter");
  if (filter) {
    filter.addEventListener("input", function () {
      var needle = filter.value.toLowerCase();
      document.querySelectorAll("#pricing-table tbody tr").forEach(function (row) {
        var text = (row.getAttribute("data-model") || "").toLowerCase();
        row.hidden = needle !== "" && text.indexOf(needle) === -1;
      });
    });
  }

  var alarm = document.getElementById("alarm");
  if (!alarm) { return; }
  var toggle = document.getElementById("alarm-toggle");
  var state = document.getElementById("alarm-state");
  var statusUrl = alarm.getAttribute("data-status-url");
  var lastEvent = parseInt(alarm.getAttribute("data-last-event"), 10) || 0;
  var seen = null;  // budget id -> "ok" | "warned" | "over" at the last poll
  var timer = null;

  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    var audio = new Context();
    [0, 0.35, 0.7].forEach(function (start) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "square";
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime + start);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + start + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start(audio.currentTime + start);
      osc.stop(audio.currentTime + start + 0.3);
    });
    setTimeout(function () { audio.close(); }, 1500);
  }

  function notify(text) {
    state.textContent = text;
    if (!("Notification" in window)) { return; }
    if (Notification.permission === "granted") {
      new Notification("codesession budget alert", { body: text });
    }
  }

  function level(budget) {
    return budget.over ? "over" : (budget.warned ? "warned" : "ok");
  }

  function check(data) {
    var crossed = [];
    var now = {};
    data.budgets.forEach(function (budget) {
      now[budget.id] = level(budget);
      var before = seen === null ? now[budget.id] : (seen[budget.id] || "ok");
      if (before !== now[budget.id] && now[budget.id] !== "ok") {
        crossed.push(budget.period + " budget at " + budget.percent + "%");
      }
    });
    if (data.lastEventId > lastEvent && seen !== null && crossed.length === 0) {
      crossed.push("a new budget alert fired");
    }
    lastEvent = Math.max(lastEvent, data.lastEventId);
    seen = now;
    if (crossed.length) {
      beep();
      notify("Budget crossed: " + crossed.join(", "));
    }
  }

  function poll() {
    fetch(statusUrl, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(check)
      .catch(function () { state.textContent = "Cannot reach the dashboard."; });
  }

  function setMode(on) {
    localStorage.setItem("cs-alarm", on ? "on" : "off");
    if (timer) { clearInterval(timer); timer = null; }
    if (on) {
      if ("Notification" in window && Notification.permission === "default") {
        Notification.requestPermission().catch(function () {});
      }
      seen = null;
      poll();
      timer = setInterval(poll, 15000);
      state.textContent = "Alarm mode is on: checking every 15 seconds.";
    } else {
      state.textContent = "Alarm mode is off.";
    }
  }

  window.csAlarmPoll = poll;  // lets a test (or the console) check right away
  toggle.checked = localStorage.getItem("cs-alarm") === "on";
  toggle.addEventListener("change", function () { setMode(toggle.checked); });
  document.getElementById("alarm-test").addEventListener("click", beep);
  setMode(toggle.checked);
})();
