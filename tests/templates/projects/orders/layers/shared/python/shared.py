GREETING = "hello from the layer"
