// Attendee page, the matching that learns: "Is this you?" (the maybe tier, with
// "That's me" / "Not me"), "Not me" in the photo viewer, and "Missing a photo?".
// attendee.js owns the session and the gallery; the two talk through DOM events:
// findme:session (token or null), findme:selfie and findme:viewer (the photo) come
// from it; findme:matched and findme:unmatched (a photo id) go to it.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const section = $("maybe"), strip = $("maybe-strip"), stripStatus = $("maybe-status");
  const notMeButton = $("viewer-not-me"), missingStatus = $("missing-status");
  const REFRESH_SECONDS = 20, MISSED_POLL_SECONDS = 1.5, MISSED_PATIENCE_SECONDS = 120;
  const tell = (name, detail) => document.dispatchEvent(new CustomEvent(name, { detail }));
  let token = null, viewed = null, refreshTimer = null, generation = 0;
  const blobUrls = new Set();

  // A refused token: attendee.js ends the session (its own calls see the 401 too).
  const failed = (element, err) => setStatus(element, err.friendly, "bad");

  // -- "Is this you?" --------------------------------------------------------------------

  function clearStrip() {
    blobUrls.forEach((url) => URL.revokeObjectURL(url));
    blobUrls.clear();
    strip.replaceChildren();
    section.hidden = true;
  }

  function card(item) {
    const li = document.createElement("li");
    const img = document.createElement("img");
    img.alt = "A photo that may show you";
    const row = document.createElement("div");
    row.className = "row";
    const answers = [["me", "That's me", ""], ["not_me", "Not me", "secondary"]];
    for (const [answer, label, kind] of answers) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.className = kind;
      button.addEventListener("click", () => answerSuggestion(item, answer, li));
      row.append(button);
    }
    li.append(img, row);
    imageUrl(item.thumbnail_url, token).then((url) => {
      blobUrls.add(url);
      img.src = url;
    }, () => (img.alt = "This photo could not be loaded."));
    return li;
  }

  async function loadSuggestions() {
    if (!token || document.hidden) return;
    const mine = generation;
    try {
      const page = await api("/api/me/suggestions", { token });
      if (mine !== generation) return;
      const known = new Set([...strip.children].map((li) => li.dataset.photo));
      for (const item of page.items) {
        if (known.has(String(item.photo_id))) continue;
        const li = card(item);
        li.dataset.photo = item.photo_id;
        strip.append(li);
      }
      section.hidden = strip.children.length === 0;
    } catch (err) {
      if (mine === generation && err.status !== 401) failed(stripStatus, err);
    }
  }

  async function answerSuggestion(item, answer, li) {
    li.querySelectorAll("button").forEach((b) => (b.disabled = true));
    try {
      await api(`/api/me/suggestions/${item.photo_id}`, { json: { answer }, token });
      li.remove();
      section.hidden = strip.children.length === 0;
      setStatus(stripStatus, answer === "me"
        ? "Added to your photos. Photos like it are being looked for too."
        : "Thanks: that face will not be suggested again.", "ok");
      if (answer === "me") tell("findme:matched");
      // An answer changes what else is suggested (more photos near you, or fewer
      // that look like someone else).
      clearStrip();
      loadSuggestions();
    } catch (err) {
      li.querySelectorAll("button").forEach((b) => (b.disabled = false));
      failed(stripStatus, err);
    }
  }

  // -- "Not me" in the viewer ---------------------------------------------------------------

  document.addEventListener("findme:viewer", ({ detail }) => (viewed = detail));
  notMeButton.addEventListener("click", async () => {
    if (!viewed || !token) return;
    notMeButton.disabled = true;
    try {
      await api(`/api/me/photos/${viewed.photo_id}/not-me`, { method: "POST", token });
      tell("findme:unmatched", viewed.photo_id);
      $("viewer").close();
      // Another face of the photo may still be you: the gallery re-reads its newest.
      tell("findme:matched");
    } catch (err) {
      $("viewer-image").alt = err.friendly;
    } finally {
      notMeButton.disabled = false;
    }
  });

  // -- "Missing a photo?" ------------------------------------------------------------------

  $("missing-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const number = $("missing-photo").value.trim();
    if (!/^[1-9]\d{0,17}$/.test(number)) {
      return setStatus(missingStatus, "Enter the photo's number.", "bad");
    }
    const send = $("missing-send");
    send.disabled = true;
    setStatus(missingStatus, "Looking closer at that photo...");
    try {
      let flag = await api("/api/me/missed", { json: { photo_id: Number(number) }, token });
      const until = Date.now() + MISSED_PATIENCE_SECONDS * 1000;
      while (["pending", "processing"].includes(flag.status) && Date.now() < until) {
        await sleep(MISSED_POLL_SECONDS);
        flag = await api(`/api/me/missed/${number}`, { token });
      }
      if (flag.status === "done" && flag.found) {
        setStatus(missingStatus, "Found you: the photo is in your photos or under " +
          "\"Is this you?\".", "ok");
        tell("findme:matched");
        loadSuggestions();
      } else if (flag.status === "done") {
        setStatus(missingStatus, "We looked closer and did not find you in that photo.");
      } else if (flag.status === "failed") {
        setStatus(missingStatus, "That photo could not be looked at again.", "bad");
      } else {
        setStatus(missingStatus, "Still looking; check back in a minute.");
      }
    } catch (err) {
      failed(missingStatus, err);
    } finally {
      send.disabled = false;
    }
  });

  // -- session -----------------------------------------------------------------------------

  document.addEventListener("findme:session", ({ detail }) => {
    generation += 1;
    token = detail;
    viewed = null;
    clearStrip();
    setStatus(stripStatus, "");
    setStatus(missingStatus, "");
    clearInterval(refreshTimer);
    if (!token) return;
    loadSuggestions();
    refreshTimer = setInterval(loadSuggestions, REFRESH_SECONDS * 1000);
  });
  document.addEventListener("findme:selfie", () => {
    generation += 1;
    clearStrip();
    loadSuggestions();
  });
  document.addEventListener("visibilitychange", loadSuggestions);
})();
