TEXT = "hi from a CDK layer"
