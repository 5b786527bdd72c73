"""The library member: what the API says."""

STATUS = "ok"
