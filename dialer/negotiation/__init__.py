"""Negotiation services: offers from storage and policy, live discount approval, agreements, payments."""
