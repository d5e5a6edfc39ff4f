"""The partner trust store: CA certificates per partner domain and trust paths over them."""
