// Attendee page: join (event code or invite link), selfie upload, "Your photos"
// (newest first, load more, new matches polled while the page is visible),
// log out and delete my data. "Is this you?", "Not me" and "Missing a photo?" are
// in suggestions.js.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  // The maybe tier and its answers live in suggestions.js; they talk through events.
  const tell = (name, detail) => document.dispatchEvent(new CustomEvent(name, { detail }));
  const codeInput = $("event-code"), codeHint = $("event-code-hint");
  const userInput = $("username"), userHint = $("username-hint");
  const passInput = $("password");
  const accountStatus = $("account-status"), selfieStatus = $("selfie-status");
  const sessionStatus = $("session-status"), photosStatus = $("photos-status");
  const POLL_SECONDS = 10;
  let eventValid = false;
  let session = JSON.parse(sessionStorage.getItem("findme.session") || "null");
  // An invite link carries its token in the fragment, which never reaches a server log.
  const inviteToken = new URLSearchParams(location.hash.slice(1)).get("invite");

  // -- joining -------------------------------------------------------------------------

  const checkUsername = debounced(async (username, signal) => {
    const event_code = codeInput.value.trim();
    if (!username || !eventValid) return setHint(userHint, "");
    try {
      const { username_taken } = await api("/api/check-user-availability",
        { json: { event_code, username }, signal });
      setHint(userHint, username_taken ? "Taken: log in, or pick another name to register."
        : "Available.", username_taken ? "bad" : "ok");
    } catch (err) {
      if (err.name !== "AbortError") setHint(userHint, err.friendly, "bad");
    }
  });

  const checkCode = debounced(async (event_code, signal) => {
    eventValid = false;
    if (!event_code) return setHint(codeHint, "");
    try {
      const { valid, event } = await api("/api/check-event-code", { json: { event_code }, signal });
      eventValid = valid;
      setHint(codeHint, valid ? `Event: ${event.name}` : "No event has this code.",
        valid ? "ok" : "bad");
      if (valid && userInput.value.trim()) checkUsername(userInput.value.trim());
    } catch (err) {
      if (err.name === "AbortError") return;
      setHint(codeHint, err.status === 422
        ? "That does not look like an event code." : err.friendly, "bad");
    }
  });

  codeInput.addEventListener("input", () => checkCode(codeInput.value.trim()));
  userInput.addEventListener("input", () => checkUsername(userInput.value.trim()));

  function signIn(token, username) {
    session = { token, username };
    sessionStorage.setItem("findme.session", JSON.stringify(session));
    setStatus(sessionStatus, "");
    showSession();
  }

  $("account-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const action = event.submitter ? event.submitter.value : "login";
    const body = {
      event_code: codeInput.value.trim(),
      username: userInput.value.trim(),
      password: passInput.value,
    };
    if (!body.event_code || !body.username || !body.password) {
      return setStatus(accountStatus, "Fill in the event code, username and password.", "bad");
    }
    const buttons = [$("register"), $("login")];
    buttons.forEach((b) => (b.disabled = true));
    setStatus(accountStatus, action === "register" ? "Registering..." : "Logging in...");
    try {
      const path = action === "register" ? "/api/register-with-event-code" : "/api/login";
      const data = await api(path, { json: body, onWait: (s) => waiting(accountStatus, s) });
      passInput.value = "";
      setStatus(accountStatus, "");
      signIn(data.access_token, body.username);
      setStatus(sessionStatus, action === "register" ? "Registered." : "Logged in.", "ok");
      $("selfie-file").focus();
    } catch (err) {
      setStatus(accountStatus, err.friendly, "bad");
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });

  $("invite-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = $("invite-status");
    const username = $("invite-username").value.trim(), file = $("invite-file").files[0];
    if (!username || !$("invite-password").value || !file) {
      return setStatus(status, "Fill in a username, a password and choose a selfie.", "bad");
    }
    const form = new FormData($("invite-form"));
    $("invite-register").disabled = true;
    setStatus(status, "Joining and looking for your face...");
    try {
      const data = await api(`/api/invites/${encodeURIComponent(inviteToken)}/register`,
        { form, onWait: (s) => waiting(status, s) });
      history.replaceState(null, "", location.pathname);
      $("invite").hidden = true;
      signIn(data.access_token, data.attendee.username);
      setStatus(selfieStatus, foundText(data.selfie.matches), "ok");
    } catch (err) {
      setStatus(status, err.friendly, "bad");
    } finally {
      $("invite-register").disabled = false;
    }
  });

  // -- selfie --------------------------------------------------------------------------

  const foundText = (matches) => `Face found. You appear in ${plural(matches, "photo")} so far.`;
  const waiting = (element, seconds) =>
    setStatus(element, `The service is busy; trying again in ${plural(seconds, "second")}...`);

  $("selfie-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = $("selfie-file").files[0];
    if (!file) return setStatus(selfieStatus, "Choose a photo first.", "bad");
    const form = new FormData();
    form.append("file", file);
    if ($("selfie-add").checked) form.append("add", "true");
    $("upload").disabled = true;
    setStatus(selfieStatus, "Uploading and looking for your face...");
    try {
      const result = await api("/api/upload-selfie",
        { form, token: session.token, onWait: (s) => waiting(selfieStatus, s) });
      setStatus(selfieStatus, foundText(result.matches), "ok");
      // A new selfie replaces every match: show the list afresh.
      resetPhotos();
      loadMore();
      tell("findme:selfie");
    } catch (err) {
      if (!expired(err)) setStatus(selfieStatus, err.friendly, "bad");
    } finally {
      $("upload").disabled = false;
    }
  });

  // -- your photos ---------------------------------------------------------------------

  const grid = $("photo-grid"), moreButton = $("load-more");
  const shown = new Map(); // photo_id -> its <li>
  const blobUrls = new Set();
  let nextCursor = null, loading = false, pollTimer = null;

  function photoItem(item) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    const img = document.createElement("img");
    const taken = new Date(item.detected_at).toLocaleString();
    button.type = "button";
    button.className = "thumb";
    button.setAttribute("aria-label", `Open photo matched ${taken}`);
    img.alt = "";
    button.append(img);
    li.append(button);
    imageUrl(item.thumbnail_url, session.token).then((url) => {
      blobUrls.add(url);
      img.src = url;
    }, () => li.classList.add("broken"));
    button.addEventListener("click", () => openViewer(item, taken));
    return li;
  }

  function showCount() {
    setHint(photosStatus, shown.size
      ? `${plural(shown.size, "photo")} of you${nextCursor ? " so far" : ""}, newest first.`
      : "No photos of you yet. They appear here as the organizer's photos are processed.");
  }

  async function fetchPage(cursor) {
    const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
    return api(`/api/me/photos${query}`, { token: session.token });
  }

  function add(item, before) {
    const li = photoItem(item);
    shown.set(item.photo_id, li);
    grid.insertBefore(li, before);
  }

  // Pages read before a reset (new selfie, log out) belong to the old list: dropped.
  let generation = 0;

  async function loadMore() {
    if (loading || !session) return;
    const mine = generation;
    loading = true;
    moreButton.disabled = true;
    try {
      const page = await fetchPage(nextCursor);
      if (mine !== generation) return;
      page.items.filter((item) => !shown.has(item.photo_id)).forEach((item) => add(item, null));
      nextCursor = page.next_cursor;
      moreButton.hidden = !nextCursor;
      showCount();
    } catch (err) {
      if (mine === generation && !expired(err)) setHint(photosStatus, err.friendly, "bad");
    } finally {
      if (mine === generation) loading = false;
      moreButton.disabled = false;
    }
  }

  // New matches have the newest detected_at: read from the top until a photo
  // already shown (a few pages at most) and put them first, in order.
  async function pollNewest() {
    if (!session || document.hidden) return;
    if (!shown.size) {
      await loadMore();
      if (shown.size) setHint(photosStatus, `${plural(shown.size, "new photo")} of you.`, "ok");
      return;
    }
    if (loading) return;
    const mine = generation;
    loading = true;
    try {
      const fresh = [];
      let cursor = "", known = false;
      for (let pages = 0; pages < 5 && !known && cursor !== null; pages++) {
        const page = await fetchPage(cursor);
        for (const item of page.items) {
          if (shown.has(item.photo_id)) { known = true; break; }
          fresh.push(item);
        }
        cursor = page.next_cursor;
      }
      if (mine !== generation) return;
      const first = grid.firstChild;
      fresh.forEach((item) => add(item, first));
      if (fresh.length) setHint(photosStatus, `${plural(fresh.length, "new photo")} of you.`, "ok");
    } catch (err) {
      // A missed poll is retried at the next tick; only a dead session matters now.
      if (mine === generation) expired(err);
    } finally {
      if (mine === generation) loading = false;
    }
  }

  function resetPhotos() {
    generation += 1;
    loading = false;
    blobUrls.forEach((url) => URL.revokeObjectURL(url));
    blobUrls.clear();
    shown.clear();
    grid.replaceChildren();
    nextCursor = null;
    moreButton.hidden = true;
    setHint(photosStatus, "");
  }

  function startPolling() {
    clearInterval(pollTimer);
    pollTimer = setInterval(pollNewest, POLL_SECONDS * 1000);
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) pollNewest();
  });
  // suggestions.js: an answer made a match, or "Not me" took one away.
  document.addEventListener("findme:matched", pollNewest);
  document.addEventListener("findme:unmatched", ({ detail: photoId }) => {
    if (shown.has(photoId)) shown.get(photoId).remove();
    shown.delete(photoId);
    showCount();
  });
  moreButton.addEventListener("click", loadMore);

  // -- photo viewer --------------------------------------------------------------------

  const viewer = $("viewer"), viewerImage = $("viewer-image");
  let viewerUrl = null;

  async function openViewer(item, taken) {
    tell("findme:viewer", item);
    $("viewer-title").textContent = `Photo matched ${taken}`;
    viewerImage.alt = "Loading...";
    viewerImage.removeAttribute("src");
    viewer.showModal();
    try {
      viewerUrl = await imageUrl(item.url, session.token);
      viewerImage.src = viewerUrl;
      viewerImage.alt = `Event photo matched ${taken}`;
      $("viewer-download").href = viewerUrl;
      $("viewer-download").download = `photo-${item.photo_id}.jpg`;
    } catch (err) {
      viewerImage.alt = "This photo could not be loaded.";
    }
  }

  viewer.addEventListener("close", () => {
    if (viewerUrl) URL.revokeObjectURL(viewerUrl);
    viewerUrl = null;
  });
  $("viewer-close").addEventListener("click", () => viewer.close());

  // -- session -------------------------------------------------------------------------

  // A refused token ends the session; the caller shows nothing else then.
  const expired = sessionEnder(() => logout(), sessionStatus);

  function logout() {
    session = null;
    sessionStorage.removeItem("findme.session");
    clearInterval(pollTimer);
    resetPhotos();
    setStatus(selfieStatus, "");
    showSession();
  }

  $("logout").addEventListener("click", () => {
    logout();
    setStatus(sessionStatus, "Logged out.");
    codeInput.focus();
  });

  $("delete-me").addEventListener("click", async () => {
    const sure = confirm("Delete your account, your selfie and your photo matches? " +
      "This cannot be undone.");
    if (!sure) return;
    $("delete-me").disabled = true;
    try {
      await api("/api/me", { method: "DELETE", token: session.token });
      logout();
      setStatus(sessionStatus, "Your account, selfie and matches were deleted.", "ok");
    } catch (err) {
      if (!expired(err)) setStatus(sessionStatus, err.friendly, "bad");
    } finally {
      $("delete-me").disabled = false;
    }
  });

  function showSession() {
    const signedIn = Boolean(session);
    $("account").hidden = signedIn || !$("invite").hidden;
    $("signed-in").hidden = $("selfie").hidden = $("photos").hidden = !signedIn;
    tell("findme:session", signedIn ? session.token : null);
    if (!signedIn) return;
    $("who").textContent = session.username;
    if (!shown.size) loadMore();
    startPolling();
  }

  $("invite").hidden = !inviteToken || Boolean(session);
  showSession();
})();
