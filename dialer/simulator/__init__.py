"""A simulated Asterisk: a pure PBX model (:mod:`.pbx`) behind a real AMI TCP server (:mod:`.server`)."""

from dialer.simulator.customers import LastDigitCustomers, ScenarioCustomers, ScenarioError
from dialer.simulator.pbx import Pbx
from dialer.simulator.server import SimulatorServer
from dialer.simulator.timers import TimerQueue

__all__ = ["LastDigitCustomers", "Pbx", "ScenarioCustomers", "ScenarioError", "SimulatorServer", "TimerQueue"]
