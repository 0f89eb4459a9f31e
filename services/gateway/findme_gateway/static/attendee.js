// Attendee page: event code check, username availability, register/login, selfie upload.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const codeInput = $("event-code"), codeHint = $("event-code-hint");
  const userInput = $("username"), userHint = $("username-hint");
  const passInput = $("password");
  const accountStatus = $("account-status"), selfieStatus = $("selfie-status");
  let eventValid = false;
  let session = JSON.parse(sessionStorage.getItem("findme.session") || "null");

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
      setHint(codeHint, err.code === "invalid_argument" || err.status === 422
        ? "That does not look like an event code." : err.friendly, "bad");
    }
  });

  codeInput.addEventListener("input", () => checkCode(codeInput.value.trim()));
  userInput.addEventListener("input", () => checkUsername(userInput.value.trim()));

  function showSession() {
    $("selfie").hidden = !session;
    if (session) $("who").textContent = session.username;
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
      const data = await api(path, { json: body });
      session = { token: data.access_token, username: body.username };
      sessionStorage.setItem("findme.session", JSON.stringify(session));
      passInput.value = "";
      setStatus(accountStatus, action === "register" ? "Registered." : "Logged in.", "ok");
      showSession();
      $("selfie-file").focus();
    } catch (err) {
      setStatus(accountStatus, err.friendly, "bad");
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });

  $("selfie-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = $("selfie-file").files[0];
    if (!file) return setStatus(selfieStatus, "Choose a photo first.", "bad");
    const form = new FormData();
    form.append("file", file);
    $("upload").disabled = true;
    setStatus(selfieStatus, "Uploading and looking for your face...");
    try {
      const result = await api("/api/upload-selfie", { form, token: session && session.token });
      const photos = result.matches === 1 ? "1 photo" : `${result.matches} photos`;
      setStatus(selfieStatus, `Face found. You appear in ${photos} so far.`, "ok");
    } catch (err) {
      setStatus(selfieStatus, err.friendly, "bad");
      if (err.status === 401) logout();
    } finally {
      $("upload").disabled = false;
    }
  });

  function logout() {
    session = null;
    sessionStorage.removeItem("findme.session");
    showSession();
  }
  $("logout").addEventListener("click", () => {
    logout();
    setStatus(accountStatus, "Logged out.");
  });

  showSession();
})();
