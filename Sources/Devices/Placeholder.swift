import Board
import Reactor
