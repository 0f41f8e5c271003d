// search client: being written
