// The driver's API is expressed in the port protocols (a driver is generic over its register port,
// interrupt source and buffer provider), so whoever uses a driver needs them too: re-exported, one
// import gives both. They live in `DriverPorts` so the platforms implementing them (`UIO`,
// `LinuxUIO`) need not depend on the driver itself.
@_exported import DriverPorts
