// Small helpers shared by both pages: JSON calls against the public API.
"use strict";

const ERROR_TEXT = {
  invalid_request: "Please check the highlighted field.",
  event_not_found: "No event has this code.",
  username_taken: "That username is already taken at this event.",
  email_taken: "An organizer account with this email already exists.",
  invalid_credentials: "Wrong username or password.",
  too_many_attempts: "Too many attempts. Please wait a moment.",
  rate_limited: "Too many requests. Please wait a moment.",
  invalid_token: "Your session expired. Please log in again.",
  missing_token: "Please log in first.",
  too_large: "That file is too large.",
  unsupported_format: "That file type is not supported. Use JPEG, PNG, WebP or HEIC.",
  not_an_image: "That file is not an image.",
  no_face: "No face found. Use a clear, well-lit photo of your face.",
  multiple_faces: "More than one face found. Make sure only you are in the photo.",
  face_too_small: "Your face is too small in the photo. Move closer.",
  face_cut_off: "Your face is cut off. Keep your whole face in the frame.",
  too_many_pixels: "That image is too large in pixels.",
  service_unavailable: "The service is temporarily unavailable. Try again shortly.",
  overloaded: "The service is busy. Try again shortly.",
  timeout: "The service took too long. Try again shortly.",
};

class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
  get friendly() {
    const text = ERROR_TEXT[this.code] || this.message || "Something went wrong.";
    return this.retryAfter ? `${text} (retry in ${this.retryAfter}s)` : text;
  }
}

async function api(path, { json, form, token, signal } = {}) {
  const headers = {};
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  if (token) headers["Authorization"] = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method: "POST", headers, body, signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", "Network error. Check your connection.");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    throw new ApiError(response.status, error.code || "http_error",
      error.message || response.statusText, response.headers.get("Retry-After"));
  }
  return data;
}

function setHint(element, text, kind) {
  element.textContent = text;
  element.className = "hint" + (kind ? ` ${kind}` : "");
}

function setStatus(element, text, kind) {
  element.textContent = text;
  element.className = "status" + (kind ? ` ${kind}` : "");
}

// Run fn(value) at most once per pause in typing; cancel stale requests.
function debounced(fn, wait = 300) {
  let timer = null;
  let controller = null;
  return (value) => {
    clearTimeout(timer);
    if (controller) controller.abort();
    timer = setTimeout(() => {
      controller = new AbortController();
      fn(value, controller.signal);
    }, wait);
  };
}
