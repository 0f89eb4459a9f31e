// Organizer page: sign up or log in; list and create events; for the chosen event,
// upload many photos (per-file refusals), follow processing, stats, invite links
// and deletion.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const accountStatus = $("account-status"), sessionStatus = $("session-status");
  const eventStatus = $("event-status"), uploadStatus = $("upload-status");
  const PROGRESS_POLL_SECONDS = 2;
  // Well under the gateway's 50 files / 100 MiB per request, so one refusal costs little.
  const BATCH_FILES = 20, BATCH_BYTES = 40 * 1024 * 1024;
  let token = sessionStorage.getItem("findme.organizer");
  let events = [], current = null, progressTimer = null;

  // -- account -------------------------------------------------------------------------

  $("account-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const action = event.submitter ? event.submitter.value : "login";
    const body = { email: $("email").value.trim(), password: $("password").value };
    if (!body.email || !body.password) {
      return setStatus(accountStatus, "Fill in your email and password.", "bad");
    }
    const buttons = [$("signup"), $("login")];
    buttons.forEach((b) => (b.disabled = true));
    setStatus(accountStatus, action === "signup" ? "Creating your account..." : "Logging in...");
    try {
      const path = action === "signup" ? "/api/organizers" : "/api/organizers/login";
      const data = await api(path, { json: body });
      token = data.access_token;
      sessionStorage.setItem("findme.organizer", token);
      $("password").value = "";
      setStatus(accountStatus, "");
      setStatus(sessionStatus, action === "signup" ? "Account created." : "Logged in.", "ok");
      showSession();
      $("event-name").focus();
    } catch (err) {
      setStatus(accountStatus, err.status === 401 && action === "login"
        ? "Wrong email or password." : err.friendly, "bad");
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });

  // A refused token ends the session; the caller shows nothing else then.
  const expired = sessionEnder(() => logout(), sessionStatus);

  function logout() {
    token = null;
    sessionStorage.removeItem("findme.organizer");
    choose(null);
    showSession();
  }
  $("logout").addEventListener("click", () => {
    logout();
    setStatus(sessionStatus, "Logged out.");
    $("email").focus();
  });

  function showSession() {
    $("account").hidden = Boolean(token);
    $("signed-in").hidden = $("events").hidden = $("create").hidden = !token;
    if (token) loadEvents();
  }

  // -- events --------------------------------------------------------------------------

  const days = (e) => [e.starts_on, e.ends_on].filter(Boolean)
    .map((d) => new Date(`${d}T00:00`).toLocaleDateString()).join(" to ");

  async function loadEvents() {
    try {
      events = (await api("/api/events", { token })).events;
      renderEvents();
    } catch (err) {
      if (!expired(err)) setHint($("events-status"), err.friendly, "bad");
    }
  }

  function renderEvents() {
    const list = $("event-list");
    list.replaceChildren(...events.map((e) => {
      const li = document.createElement("li");
      const name = document.createElement("strong");
      const code = document.createElement("span");
      const when = document.createElement("span");
      const manage = document.createElement("button");
      name.textContent = e.name;
      code.className = "code small";
      code.textContent = e.code;
      code.setAttribute("aria-label", `code ${e.code.split("").join(" ")}`);
      when.className = "hint";
      when.textContent = days(e);
      manage.type = "button";
      manage.className = "secondary";
      manage.textContent = "Manage";
      manage.setAttribute("aria-label", `Manage ${e.name}`);
      manage.addEventListener("click", () => choose(e, true));
      if (current && current.id === e.id) li.setAttribute("aria-current", "true");
      li.append(name, code, when, manage);
      return li;
    }));
    setHint($("events-status"), events.length ? plural(events.length, "event")
      : "No events yet: create one below.");
  }

  $("event-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: $("event-name").value.trim() };
    if (!body.name) return setStatus(eventStatus, "Give the event a name.", "bad");
    if ($("starts-on").value) body.starts_on = $("starts-on").value;
    if ($("ends-on").value) body.ends_on = $("ends-on").value;
    $("create-event").disabled = true;
    setStatus(eventStatus, "Creating...");
    try {
      const created = await api("/api/events", { json: body, token });
      $("event-form").reset();
      setStatus(eventStatus, `Event created. Its code is ${created.code}.`, "ok");
      events.unshift(created);
      choose(created, true);
      loadEvents();
    } catch (err) {
      if (!expired(err)) setStatus(eventStatus, err.friendly, "bad");
    } finally {
      $("create-event").disabled = false;
    }
  });

  // Show one event's panel (or none), stopping the previous one's polling.
  function choose(event, focus = false) {
    clearTimeout(progressTimer);
    current = event;
    $("event").hidden = !event;
    renderEvents();
    if (!event) return;
    $("event-title").textContent = event.name;
    $("event-code").textContent = event.code;
    [uploadStatus, $("invite-status"), $("delete-status")].forEach((el) => setStatus(el, ""));
    $("refused").replaceChildren();
    $("invite-box").hidden = true;
    $("upload-form").reset();
    refreshProgress();
    if (focus) $("event").focus();
  }

  // -- photos --------------------------------------------------------------------------

  function batches(files) {
    const out = [];
    let batch = [], bytes = 0;
    for (const file of files) {
      if (batch.length && (batch.length >= BATCH_FILES || bytes + file.size > BATCH_BYTES)) {
        out.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(file);
      bytes += file.size;
    }
    if (batch.length) out.push(batch);
    return out;
  }

  // Upload one batch. A refusal naming files stores nothing, so the batch is sent
  // again without them; the rate limit's Retry-After is waited out.
  async function uploadBatch(eventId, files, refused) {
    let accepted = [];
    while (files.length) {
      const form = new FormData();
      files.forEach((file) => form.append("files", file, file.name));
      try {
        const reply = await api(`/api/events/${eventId}/photos`, { form, token });
        return accepted.concat(reply.photos);
      } catch (err) {
        const named = err.details.files || [];
        const left = files.filter((f) => !named.includes(f.name));
        if (named.length && left.length < files.length) {
          files.filter((f) => named.includes(f.name))
            .forEach((f) => refused.push([f.name, err.friendly]));
          files = left;
        } else if (err.code === "rate_limited" && err.retryAfter) {
          setStatus(uploadStatus, `Upload limit reached; continuing in ${err.retryAfter} s...`);
          await sleep(err.retryAfter);
        } else if (err.status === 413 && files.length > 1) {
          // The request as a whole was too big: send the files one by one.
          for (const file of files) {
            accepted = accepted.concat(await uploadBatch(eventId, [file], refused));
          }
          return accepted;
        } else {
          if (err.status === 401) throw err;
          files.forEach((f) => refused.push([f.name, err.friendly]));
          return accepted;
        }
      }
    }
    return accepted;
  }

  $("upload-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const files = Array.from($("photo-files").files);
    if (!files.length) return setStatus(uploadStatus, "Choose one or more photos first.", "bad");
    const eventId = current.id;
    const refused = [];
    let accepted = [], sent = 0;
    $("upload-photos").disabled = true;
    $("refused").replaceChildren();
    try {
      for (const batch of batches(files)) {
        setStatus(uploadStatus, `Uploading: ${sent} of ${plural(files.length, "photo")} sent...`);
        accepted = accepted.concat(await uploadBatch(eventId, batch, refused));
        sent += batch.length;
        if (current && current.id === eventId) refreshProgress();
      }
      const duplicates = accepted.filter((p) => p.duplicate).length;
      let text = `${plural(accepted.length, "photo")} accepted`;
      if (duplicates) text += ` (${duplicates} already uploaded before)`;
      if (refused.length) text += `; ${plural(refused.length, "file")} refused (listed below)`;
      setStatus(uploadStatus, `${text}.`, refused.length ? "bad" : "ok");
      $("refused").replaceChildren(...refused.map(([name, why]) => {
        const li = document.createElement("li");
        li.textContent = `${name}: ${why}`;
        return li;
      }));
      $("photo-files").value = "";
    } catch (err) {
      if (!expired(err)) setStatus(uploadStatus, err.friendly, "bad");
    } finally {
      $("upload-photos").disabled = false;
    }
  });

  // -- progress and stats --------------------------------------------------------------

  async function refreshProgress() {
    clearTimeout(progressTimer);
    const event = current;
    if (!event) return;
    try {
      const p = await api(`/api/events/${event.id}/progress`, { token });
      if (current !== event) return;
      const total = p.pending + p.processing + p.done + p.failed;
      const bar = $("progress-bar");
      bar.max = Math.max(total, 1);
      bar.value = p.done + p.failed;
      setHint($("progress-text"), total
        ? `${p.done} done, ${p.processing} processing, ${p.pending} waiting, ${p.failed} failed`
          + ` (of ${plural(total, "photo")}).`
        : "No photos uploaded yet.");
      if (p.pending + p.processing > 0) {
        progressTimer = setTimeout(refreshProgress, PROGRESS_POLL_SECONDS * 1000);
      }
    } catch (err) {
      if (expired(err)) return;
      setHint($("progress-text"), err.friendly, "bad");
      progressTimer = setTimeout(refreshProgress, PROGRESS_POLL_SECONDS * 2000);
    }
    loadStats(event);
  }

  async function loadStats(event) {
    try {
      const s = await api(`/api/events/${event.id}/stats`, { token });
      if (current !== event) return;
      const rows = [["Attendees", s.attendees], ["Selfies", s.selfies],
        ["Photos done", s.photos.done], ["Faces found", s.faces], ["Matches", s.matches]];
      $("stats").replaceChildren(...rows.flatMap(([label, value]) => {
        const dt = document.createElement("dt"), dd = document.createElement("dd");
        dt.textContent = label;
        dd.textContent = value;
        const pair = document.createElement("div");
        pair.append(dt, dd);
        return [pair];
      }));
    } catch (err) {
      expired(err);
    }
  }

  // -- invite and delete ---------------------------------------------------------------

  $("create-invite").addEventListener("click", async () => {
    const status = $("invite-status");
    $("create-invite").disabled = true;
    try {
      const invite = await api(`/api/events/${current.id}/invites`, { method: "POST", token });
      // The token rides in the fragment: browsers never send it to a server.
      $("invite-url").value = `${location.origin}/#invite=${encodeURIComponent(invite.token)}`;
      setHint($("invite-expiry"),
        `Valid once, until ${new Date(invite.expires_at).toLocaleString()}.`);
      $("invite-box").hidden = false;
      setStatus(status, "Invite link created.", "ok");
      $("invite-url").select();
    } catch (err) {
      if (!expired(err)) setStatus(status, err.friendly, "bad");
    } finally {
      $("create-invite").disabled = false;
    }
  });

  $("copy-invite").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("invite-url").value);
      setStatus($("invite-status"), "Link copied.", "ok");
    } catch {
      $("invite-url").select();
      setStatus($("invite-status"), "Select the link and copy it.");
    }
  });

  $("delete-event").addEventListener("click", async () => {
    const event = current;
    if (!confirm(`Delete "${event.name}" with all its photos, attendees and matches? ` +
      "This cannot be undone.")) return;
    $("delete-event").disabled = true;
    setStatus($("delete-status"), "Deleting...");
    try {
      await api(`/api/events/${event.id}`, { method: "DELETE", token });
      events = events.filter((e) => e.id !== event.id);
      choose(null);
      setStatus(sessionStatus, `Event "${event.name}" deleted.`, "ok");
      $("events").focus();
    } catch (err) {
      if (!expired(err)) setStatus($("delete-status"), err.friendly, "bad");
    } finally {
      $("delete-event").disabled = false;
    }
  });

  showSession();
})();
