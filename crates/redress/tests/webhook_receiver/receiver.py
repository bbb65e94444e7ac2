"""A platform's webhook receiver for the tests: verifies every request with the Standard
Webhooks reference library (PyPI `standardwebhooks`, pinned in requirements.txt), never
with Redress's code, and logs what it saw, one JSON object a line.

Usage: receiver.py --port P --log FILE --ready FILE --secret whsec_... [--secret ...]
                   [--fail-first N] [--slow-first N --slow-seconds S]

Every --secret given must verify the request (after a rotation the receiver can demand
the old and the new signature). A request that does not verify is answered 400. Of the
verified requests, the first --fail-first are answered 500, the next --slow-first are held
--slow-seconds before their 200 (longer than the sender waits), the rest get 200.
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError
except ImportError as err:  # the test reads this exit code as "library missing"
    print(f"standardwebhooks is not installed: {err}", file=sys.stderr)
    sys.exit(3)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--secret", action="append", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--slow-first", type=int, default=0)
    parser.add_argument("--slow-seconds", type=float, default=0.0)
    args = parser.parse_args()

    verifiers = [Webhook(secret) for secret in args.secret]
    lock = threading.Lock()
    counter = {"verified": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {key.lower(): value for key, value in self.headers.items()}
            entry = {
                "id": headers.get("webhook-id"),
                "signature": headers.get("webhook-signature"),
            }
            try:
                payload = None
                for verifier in verifiers:
                    payload = verifier.verify(body, headers)
                entry["verified"] = True
                entry["type"] = payload["type"]
                entry["data"] = payload["data"]
            except WebhookVerificationError as err:
                entry["verified"] = False
                entry["error"] = str(err)
                self.answer(400, entry)
                return
            with lock:
                counter["verified"] += 1
                seen = counter["verified"]
            if seen <= args.fail_first:
                self.answer(500, entry)
            elif seen <= args.fail_first + args.slow_first:
                entry["slow"] = True
                self.answer(200, entry, delay=args.slow_seconds)
            else:
                self.answer(200, entry)

        def answer(self, status, entry, delay=0.0):
            # Logged on arrival, so the log is in the order requests came in.
            entry["status"] = status
            with lock:
                with open(args.log, "a", encoding="utf-8") as log:
                    log.write(json.dumps(entry) + "\n")
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    with open(args.ready, "w", encoding="utf-8") as ready:
        ready.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
