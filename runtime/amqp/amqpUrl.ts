/** An AMQP URL for a virtual host: amqplib reads the vhost from the path, and "/" is the empty path. */
export function urlForVhost(url: string, vhost: string): string {
  const parsed = new URL(url);
  parsed.pathname = vhost === '/' ? '' : `/${encodeURIComponent(vhost)}`;
  return parsed.toString();
}
