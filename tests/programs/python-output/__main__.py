import pulumi

pulumi.export("greeting", pulumi.Config().require("message"))
