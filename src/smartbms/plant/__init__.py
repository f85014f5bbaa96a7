"""The simulated 12 V system around the BMS: cells and batteries, the vehicle side, devices, the network."""
