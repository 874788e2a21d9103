#!/usr/bin/env python3
"""A stand-in for an operator's boot API, for test_boot_api.sh.

  boot_api_service.py PORT LOG

Answers GET /v1/boot/MAC per MAC (below) and appends each request's path and
Authorization header to LOG.
"""
import http.server
import json
import sys
import time

ANSWERS = {
    "52:54:00:00:00:01": (200, {"profile": "lab"}),
    "52:54:00:00:00:02": (200, {"kernel": "http://images.example/vmlinuz",
                                "initrd": ["http://images.example/initrd"], "cmdline": "from=api"}),
    "52:54:00:00:00:03": (200, {"action": "local"}),
    "52:54:00:00:00:04": (404, None),
    "52:54:00:00:00:05": ("slow", {"profile": "lab"}),
    "52:54:00:00:00:06": (200, "not json"),
}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        mac = self.path.split("/v1/boot/")[-1].split("?")[0]
        with open(sys.argv[2], "a") as log:
            log.write("%s %s\n" % (self.path, self.headers.get("Authorization")))
        status, body = ANSWERS.get(mac, (404, None))
        if status == "slow":
            time.sleep(3)
            status = 200
        data = (body if isinstance(body, str) else json.dumps(body or {})).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
