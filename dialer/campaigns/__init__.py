"""Campaign pacing decisions for progressive and preview dialing (pure; the loop is in ``dialer.runtime``)."""
