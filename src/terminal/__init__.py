"""terminal: a driver and simulator for bank-card payment terminals.

Importing the package registers ``terminal.transport`` with pyserial, so that
``serial.serial_for_url("sim://")`` opens the in-process simulator. That list is
the only global state the project touches.
"""

import serial

__version__ = "0.1.0"

if "terminal.transport" not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append("terminal.transport")
