#!/usr/bin/env python3
"""The clerk's session for bench/redeem_load.sh.

    python3 bench/redeem_clerk.py BASE_URL [USER]

Signs in as USER (default merchant_clerk, the demo's clerk) with the login
form's CSRF token, as a phone's browser does, checks that it lands on the
redemption page, and prints two lines: the Cookie header value of the
session and the CSRF token the API wants in `x-csrf-token` on a POST.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from login_probe import Session  # noqa: E402


def main():
    base = sys.argv[1]
    user = sys.argv[2] if len(sys.argv) > 2 else "merchant_clerk"
    s = Session(base)
    _, status = s.login(user)
    assert status in (302, 303), f"sign-in as {user}: HTTP {status}"
    token = s.csrf("/redeem")
    cookie = "; ".join(f"{k}={v}" for k, v in s.cookies.items())
    print(cookie)
    print(token)


if __name__ == "__main__":
    main()
