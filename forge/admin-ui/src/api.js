// Calls to the Disaster recovery service (the Forge remote), all through @forge/bridge's invokeRemote: the page has
// no other way out (Forge's CSP allows no fetch to the remote). Contract: forge/API.md.
import { invokeRemote } from "@forge/bridge";

const BASE = "/forge/api/v1";
const UNREACHABLE = "Couldn't reach the Disaster recovery service. Try again in a moment.";

/** A refusal from the service: `status`, `code` and `message` from its JSON error, and the page notice if any. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || UNREACHABLE);
    this.status = status || 0;
    this.code = error.code || "unreachable";
    this.notice = error.notice || null;
    this.retryMinutes = error.retryMinutes;
    this.field = error.field || null; // the setting a 400 refused
    this.deletions = error.deletions; // a 409 "confirmation-required" of the schedule: backups it would delete
  }
}

/** Call `METHOD /forge/api/v1{path}` and return the JSON body of a 2xx answer; anything else throws ApiError. */
export async function call(method, path, body) {
  const request = { path: BASE + path, method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    request.headers["Content-Type"] = "application/json";
    request.body = body;
  }
  let response;
  try {
    response = await invokeRemote(request);
  } catch (err) {
    throw new ApiError(0, null);
  }
  const status = response && response.status;
  const data = response ? response.body : undefined;
  if (status >= 200 && status < 300) return data || {};
  throw new ApiError(status, data);
}

export const get = (path) => call("GET", path);
export const post = (path, body = {}) => call("POST", path, body);

/** Every page of a paged list (`next` is the next offset, or null), gathered under `key`. */
export async function getAll(path, key, limit) {
  const items = [];
  let offset = 0;
  const sep = path.includes("?") ? "&" : "?";
  for (;;) {
    const page = await get(`${path}${sep}offset=${offset}&limit=${limit}`);
    items.push(...(page[key] || []));
    if (page.next === null || page.next === undefined) return { first: page, items };
    offset = page.next;
  }
}
