"""Masking for logs and audit text: phone numbers in any written form, API keys, and what a
person wrote (message bodies and the like in query strings). Every log handler's filter
(logging_setup.MaskPhones) and the access log (access_log) apply it; so do the audit log and
the error renderer for free text."""
