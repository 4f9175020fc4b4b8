"""The Channex sandbox: an emulator of the Channex API parts channel-sync uses, an OTA simulator
and fault injection. See `app.sandbox.app.create_sandbox_app`."""
