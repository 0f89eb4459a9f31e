// Small helpers shared by both pages: calls against the public API, messages for
// every refusal code it returns, status lines, and images fetched with the token.
"use strict";

const ERROR_TEXT = {
  // Keyed by the reasons of findme_common.refusals.Reason (a test holds every one to a
  // message here), plus "network" for a request that never reached the server.
  // the request
  invalid_request: "Please check the form.",
  bad_request: "The request could not be read. Please try again.",
  method_not_allowed: "That action is not possible here.",
  request_header_too_large: "The request was too large to read. Clear this site's cookies and try again.",
  http_error: "The request could not be handled. Please try again.",
  not_found: "That page or item does not exist.",
  // accounts
  event_not_found: "No event has this code.",
  invalid_event_code: "That does not look like an event code.",
  invite_not_found: "This invite link is not valid any more. Ask the organizer for a new one.",
  invalid_validity: "An invite must be valid for a positive time.",
  username_taken: "That username is already taken at this event.",
  invalid_username: "Usernames are 3 to 32 letters or digits (and . _ -).",
  email_taken: "An organizer account with this email already exists.",
  invalid_email: "That email address does not look right.",
  password_too_short: "The password is too short (at least 8 characters).",
  password_too_long: "The password is too long.",
  password_invalid: "That password cannot be used.",
  invalid_password_hash: "Your account cannot be used right now. Please contact the organizer.",
  invalid_credentials: "Wrong username or password.",
  too_many_attempts: "Too many failed attempts. Please wait before trying again.",
  rate_limited: "Too many requests from this device. Please wait a moment.",
  selfie_in_progress: "Your previous selfie is still being checked. Please wait a moment.",
  invalid_token: "Your session expired. Please log in again.",
  missing_token: "Please log in first.",
  invalid_role: "This account cannot do that.",
  invalid_subject: "Your session is not valid. Please log in again.",
  invalid_event: "Your session is not valid. Please log in again.",
  attendee_not_found: "Your account no longer exists.",
  organizer_not_found: "Your organizer account no longer exists.",
  // images
  too_large: "That file is too large.",
  too_many_files: "Too many files in one upload.",
  unsupported_format: "That file type is not supported. Use JPEG, PNG, WebP or HEIC.",
  not_an_image: "That file is not an image, or it is damaged.",
  empty_file: "That file is empty.",
  too_many_pixels: "That image has too many pixels. Use a smaller one.",
  no_face: "No face found. Use a clear, well-lit photo of your face.",
  multiple_faces: "More than one face found. Make sure only you are in the photo.",
  face_too_small: "Your face is too small in the photo. Move closer.",
  face_cut_off: "Your face is cut off. Keep your whole face in the frame.",
  invalid_selfie: "That selfie could not be used. Try another photo.",
  invalid_encoding: "That selfie could not be used. Try another photo.",
  invalid_photo_count: "Send between one and fifty photos at a time.",
  invalid_image_request: "That photo cannot be shown.",
  photo_not_found: "That photo is no longer available.",
  // "Is this you?", "Not me", "Missing a photo?"
  suggestion_not_found: "That suggestion is no longer open. Reload the page.",
  invalid_answer: "Answer with \"That's me\" or \"Not me\".",
  too_many_selfies: "You already have 3 selfies. Upload one without \"add\" to start over.",
  too_many_missed_photos: "You have flagged as many photos as you can.",
  original_missing: "The uploaded file was lost before it could be processed. Upload it again.",
  processing_timed_out: "Processing this photo took too long, several times. Try a smaller copy.",
  // events
  invalid_event_name: "Give the event a name (at most 200 characters).",
  invalid_dates: "The end date must not be before the start date.",
  invalid_match_tolerance: "The match tolerance must be between 0.2 and 1.0.",
  invalid_retention_days: "Keep photos between 1 and 3650 days.",
  invalid_cursor: "The list is out of date. Reload the page.",
  invalid_limit: "The list is out of date. Reload the page.",
  // the service itself
  overloaded: "The service is busy.",
  service_unavailable: "The service is temporarily unavailable.",
  database_unavailable: "The service is temporarily unavailable.",
  worker_crashed: "The image could not be processed this time.",
  timeout: "The service took too long to answer.",
  cancelled: "The request was cancelled.",
  upstream_error: "Something went wrong on our side. Please try again.",
  internal_error: "Something went wrong on our side. Please try again.",
  network: "Network error. Check your connection.",
};

// The longest Retry-After the pages wait for by themselves before retrying.
const MAX_AUTO_WAIT_SECONDS = 30;

class ApiError extends Error {
  constructor(status, code, message, retryAfter, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.details = details;
  }
  get friendly() {
    let text = ERROR_TEXT[this.code] || this.message || "Something went wrong.";
    if (this.code === "invalid_request" && this.message) text = `Please check: ${this.message}.`;
    if (this.retryAfter) text += ` Try again in ${plural(this.retryAfter, "second")}.`;
    else if (this.status === 503) text += " Please try again shortly.";
    return text;
  }
}

const sleep = (seconds) => new Promise((done) => setTimeout(done, seconds * 1000));

async function send(path, { method, json, form, token, signal }) {
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
    response = await fetch(path, { method, headers, body, signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", "Network error.");
  }
  if (response.status === 204) return {};
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const { code, message, ...details } = data.error || {};
    const retryAfter = parseInt(response.headers.get("Retry-After") || "", 10) || null;
    throw new ApiError(response.status, code || "http_error", message || response.statusText,
      retryAfter, details);
  }
  return data;
}

// One API call. A busy service (503 with Retry-After) is retried once after the
// time it asks for; onWait(seconds) lets the page say so meanwhile.
async function api(path, { method, json, form, token, signal, onWait } = {}) {
  method = method || (json !== undefined || form !== undefined ? "POST" : "GET");
  try {
    return await send(path, { method, json, form, token, signal });
  } catch (err) {
    if (err.status !== 503 || !err.retryAfter || err.retryAfter > MAX_AUTO_WAIT_SECONDS) throw err;
    if (onWait) onWait(err.retryAfter);
    await sleep(err.retryAfter);
    return send(path, { method, json, form, token, signal });
  }
}

// A photo behind the bearer token, as a blob: URL an <img> can show (revoke when done).
async function imageUrl(path, token) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new ApiError(response.status, "photo_not_found", "Image not loaded.");
  return URL.createObjectURL(await response.blob());
}

function setHint(element, text, kind) {
  element.textContent = text;
  element.className = "hint" + (kind ? ` ${kind}` : "");
}

function setStatus(element, text, kind) {
  element.textContent = text;
  element.className = "status" + (kind ? ` ${kind}` : "");
}

// A page's handler for refused tokens: on 401 it logs out, says why in statusElement
// and returns true (the caller then shows nothing else); otherwise false.
function sessionEnder(logout, statusElement) {
  return (err) => {
    if (err.status !== 401) return false;
    logout();
    setStatus(statusElement, err.friendly, "bad");
    return true;
  };
}

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

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
