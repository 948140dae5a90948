/** RequestInit for POSTing a JSON body, for `app.request(path, …)` and `fetch(url, …)` alike. */
export function jsonPost(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  }
}
