// The HTTP API: JSON requests, and errors from the server's ProblemDetails. Access tokens come from session.js.

export class ApiError extends Error {
  constructor(status, problem = {}, retryAfter = null) {
    super(problem.title || `The request failed (HTTP ${status}).`);
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

export async function toApiError(response) {
  let problem = {};
  try {
    if ((response.headers.get('Content-Type') || '').includes('json')) problem = await response.json();
  } catch {
    // not JSON after all: keep the status alone
  }
  const retryAfter = Number(response.headers.get('Retry-After')) || null;
  return new ApiError(response.status, problem, retryAfter);
}

const unreachable = () => new ApiError(0, {
  title: 'The server cannot be reached.',
  detail: 'Check your connection and try again.',
});

/** Sends one request (a JSON body, with the access token when given) and returns the response, whatever its status. */
export async function send(path, { method = 'GET', body, token } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw unreachable();
  }
}

export const postJson = (path, body) => send(path, { method: 'POST', body });

/** The body of a successful response (null for 204); an ApiError for any other. */
export async function readJson(response) {
  if (!response.ok) throw await toApiError(response);
  return response.status === 204 ? null : response.json();
}

/** Calls the API without an access token (logging in, signing up). */
export async function request(path, options) {
  return readJson(await send(path, options));
}

/** The text to show for an error. */
export function describe(error) {
  if (error instanceof ApiError) {
    const { title, detail } = error.problem;
    if (error.status === 429) {
      const wait = error.retryAfter ? ` Try again in ${error.retryAfter} s.` : ' Try again shortly.';
      return `Too many attempts from this address.${wait}`;
    }
    if (title && detail) return `${title} ${detail}`;
    return title || detail || error.message;
  }
  return error && error.message ? error.message : String(error);
}
