"""The simulated 12 V system around the BMS: cells, batteries, vehicle side, devices, network."""
