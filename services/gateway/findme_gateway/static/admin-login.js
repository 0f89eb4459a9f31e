// Operator login: the answer sets an HttpOnly cookie for /admin, then the dashboard opens.
"use strict";

document.getElementById("operator-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = document.getElementById("status");
  setStatus(status, "Logging in…");
  try {
    await api("/api/operators/login", {
      json: {
        email: document.getElementById("email").value,
        password: document.getElementById("password").value,
      },
    });
    window.location.assign("/admin/performance");
  } catch (err) {
    setStatus(status, err.friendly, "bad");
  }
});
