// Organizer page: sign up or log in, then create events and show their codes.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const accountStatus = $("account-status"), eventStatus = $("event-status");
  let token = sessionStorage.getItem("findme.organizer");

  function showSession() {
    $("create").hidden = !token;
  }

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
      setStatus(accountStatus, action === "signup" ? "Account created." : "Logged in.", "ok");
      showSession();
      $("event-name").focus();
    } catch (err) {
      setStatus(accountStatus, err.status === 401 && action === "login"
        ? "Wrong email or password." : err.friendly, "bad");
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });

  $("event-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = $("event-name").value.trim();
    if (!name) return setStatus(eventStatus, "Give the event a name.", "bad");
    $("create-event").disabled = true;
    setStatus(eventStatus, "Creating...");
    try {
      const created = await api("/api/events", { json: { name }, token });
      $("created-name").textContent = created.name;
      $("created-code").textContent = created.code;
      $("created").hidden = false;
      setStatus(eventStatus, "Event created.", "ok");
    } catch (err) {
      setStatus(eventStatus, err.friendly, "bad");
      if (err.status === 401) logout();
    } finally {
      $("create-event").disabled = false;
    }
  });

  function logout() {
    token = null;
    sessionStorage.removeItem("findme.organizer");
    showSession();
  }
  $("logout").addEventListener("click", () => {
    logout();
    $("created").hidden = true;
    setStatus(accountStatus, "Logged out.");
  });

  showSession();
})();
