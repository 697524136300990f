// maskd's API as the browser test's setup and checks use it (MASKD_URL).

const base = () => `${process.env.MASKD_URL}/masking/api`;

/** Sends a request with `token`; answers the JSON body, or throws with maskd's errorMessage. */
export async function api(token, method, path, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(base() + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${data?.errorMessage ?? text}`);
  return data;
}

export async function login(username, password) {
  return (await api(null, 'POST', '/login', { username, password })).Authorization;
}

/** Waits (up to a minute) until maskd answers /readyz. */
export async function waitUntilReady() {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${process.env.MASKD_URL}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`maskd at ${process.env.MASKD_URL} is not ready`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
